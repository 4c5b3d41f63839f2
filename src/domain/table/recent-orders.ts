/**
 * Orders of attempts that have ended, kept for redelivery for a grace period (issue 12, item 8):
 * a CANCEL sent when an attempt its source never started timed out goes to the agents listening
 * then; an agent that was away learns it when it subscribes again (`pendingCommands`), so it
 * drops a migrate order it still holds instead of starting a migration already declared FAILED.
 *
 * Bounded twice: each order leaves once its grace period is over (`prune`, on the engine's
 * clock), and at most `limit` are kept, the oldest leaving first.
 */
import type { HostCommand, Millis } from '../model.js';

interface Kept {
  readonly command: HostCommand;
  readonly until: Millis;
}

export class RecentOrders {
  /** Oldest first; `until` grows along it (one grace period for all). */
  private queue: (Kept | undefined)[] = [];
  private head = 0;
  private readonly byHost = new Map<string, Set<Kept>>();

  constructor(private readonly limit: number) {}

  get size(): number {
    return this.queue.length - this.head;
  }

  keep(command: HostCommand, until: Millis): void {
    const kept: Kept = { command, until };
    this.queue.push(kept);
    let forHost = this.byHost.get(command.hostId);
    if (forHost === undefined) this.byHost.set(command.hostId, (forHost = new Set()));
    forHost.add(kept);
    while (this.size > this.limit) this.dropOldest();
  }

  /** The orders still kept for the host, oldest first. */
  forHost(hostId: string): HostCommand[] {
    return [...(this.byHost.get(hostId) ?? [])].map((k) => k.command);
  }

  /** Lets go of the host's orders (the host was removed); they stay in the queue until it reaches them. */
  dropHost(hostId: string): void {
    this.byHost.delete(hostId);
  }

  /** Lets go of every order whose grace period is over at `now`; work proportional to those. */
  prune(now: Millis): void {
    while (this.size > 0 && (this.queue[this.head] as Kept).until <= now) this.dropOldest();
  }

  private dropOldest(): void {
    const kept = this.queue[this.head] as Kept;
    this.queue[this.head++] = undefined;
    const forHost = this.byHost.get(kept.command.hostId);
    forHost?.delete(kept); // gone already when its host was removed (and perhaps added again)
    if (forHost?.size === 0) this.byHost.delete(kept.command.hostId);
    if (this.head > 1_024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
