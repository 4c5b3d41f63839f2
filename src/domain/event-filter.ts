/**
 * Which items a reader asked for: the `events` query, and the `transitions` and `events` subscriptions
 * (an event concerns every host of its migration, not only the one it names).
 */
import type { EngineEvent } from './model.js';
import type { EventType } from './vocabulary.js';

export interface EventFilter {
  readonly vmId?: string | null;
  readonly hostId?: string | null;
  readonly type?: EventType | null;
}

/** What a transition and an event have in common, for filtering. */
export interface Concerning {
  readonly vmId: string | null;
  readonly hostIds: readonly string[];
}

/** Whether an item (transition or event) concerns the VM and host a reader filters on. */
export function concerns(item: Concerning, filter: Omit<EventFilter, 'type'>): boolean {
  return (filter.vmId == null || item.vmId === filter.vmId) && (filter.hostId == null || item.hostIds.includes(filter.hostId));
}

export function matchesEvent(e: EngineEvent, filter: EventFilter): boolean {
  return concerns(e, filter) && (filter.type == null || e.type === filter.type);
}
