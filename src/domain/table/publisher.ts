/**
 * Publishing: hands each applied command's changes to the table's listeners (subscriptions, host
 * order streams, metrics). A command is applied before anyone hears of it, and a listener that
 * fails cannot undo it or turn it into an error for the command's caller: the failure goes to the
 * `onListenerError` sink (the server logs it) and every other listener still hears the change.
 */
import type { EngineEvent, HostCommand, Transition } from '../model.js';

/** What one command changed, in order. */
export interface ChangeSet {
  readonly transitions: readonly Transition[];
  readonly events: readonly EngineEvent[];
  readonly commands: readonly HostCommand[];
}

export type ChangeListener = (changes: ChangeSet) => void;

export class ChangePublisher {
  private readonly listeners = new Set<ChangeListener>();
  private failures = 0;

  constructor(private readonly onListenerError: (error: unknown) => void) {}

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(changes: ChangeSet): void {
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.failures++;
        this.onListenerError(error);
      }
    }
  }

  /** Listener calls that threw since the engine started (monitoring). */
  get listenerFailures(): number {
    return this.failures;
  }
}
