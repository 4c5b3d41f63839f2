/** The event tail, newest first, with severity (at most EVENTS_KEPT rows). */
import type { LiveDashboard } from '../live.js';
import { statusClass, time, words } from './format.js';

export function EventsPanel({ live }: { live: LiveDashboard }) {
  const events = live.store.events;
  return (
    <section class="panel events" data-testid="events">
      <h2>Events</h2>
      {events.length === 0 ? (
        <p class="empty">Events appear here as they happen.</p>
      ) : (
        <ol>
          {events.map((e) => (
            <li key={e.cursor} class={statusClass(e.severity)} data-testid="event">
              <span class="time">{time(e.at)}</span>
              <span class={`badge ${statusClass(e.severity)}`}>{e.severity.toLowerCase()}</span>
              <span class="type">{words(e.type)}</span>
              <span class="message">
                {e.message}
                {e.actor !== undefined && <span class="actor"> — {e.actor}</span>}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
