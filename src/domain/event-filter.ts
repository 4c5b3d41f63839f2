/**
 * Which events a reader asked for: the `events` query and the `events` subscription filter alike
 * (an event concerns every host of its migration, not only the one it names).
 */
import type { EngineEvent } from './model.js';
import type { EventType } from './vocabulary.js';

export interface EventFilter {
  readonly vmId?: string | null;
  readonly hostId?: string | null;
  readonly type?: EventType | null;
}

export function matchesEvent(e: EngineEvent, filter: EventFilter): boolean {
  return (
    (filter.vmId == null || e.vmId === filter.vmId) &&
    (filter.hostId == null || e.hostIds.includes(filter.hostId)) &&
    (filter.type == null || e.type === filter.type)
  );
}
