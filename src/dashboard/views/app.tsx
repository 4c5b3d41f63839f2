/** The page: header, notices, token prompt, and the panels. */
import { useEffect, useReducer } from 'preact/hooks';
import { PART_TWO_FIELDS } from '../graphql/part-two.js';
import type { LiveDashboard } from '../live.js';
import { EventsPanel } from './events.js';
import { HostsPanel } from './hosts.js';
import { DecidedPanel, InFlightPanel } from './migrations.js';
import { EvacuationsPanel, QueuePanel } from './part-two.js';
import { TokenPrompt } from './token-prompt.js';

const CONNECTION_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  'token-required': 'token required',
} as const;

export function App({ live }: { live: LiveDashboard }) {
  const [, redraw] = useReducer((n: number, _: undefined) => n + 1, 0);
  useEffect(() => live.onChange(() => redraw(undefined)), [live]);
  const { store } = live;
  return (
    <>
      <header class="top">
        <h1>Transit</h1>
        <span class={`connection c-${live.connection}`} data-testid="connection">
          {CONNECTION_TEXT[live.connection]}
        </span>
        {store.engine && (
          <span class="engine" data-testid="engine">
            epoch <code data-testid="epoch">{store.engine.epoch}</code> · cursor <code data-testid="cursor">{store.cursor}</code> · v{store.engine.version}
          </span>
        )}
        <nav>
          <a href="/graphql">GraphiQL</a>
          {live.token !== null && (
            <button type="button" class="link" onClick={() => live.forgetToken()}>
              forget token
            </button>
          )}
        </nav>
      </header>
      {live.notices.length > 0 && (
        <section class="notices">
          {live.notices.map((n) => (
            <div key={n.id} class={`notice n-${n.kind}`} data-testid={`notice-${n.kind}`} role="status" title={n.detail}>
              <span>
                {n.at.toLocaleTimeString([], { hour12: false })} · {n.text}
              </span>
              <button type="button" class="link" onClick={() => live.dismiss(n.id)} aria-label="dismiss">
                ×
              </button>
            </div>
          ))}
        </section>
      )}
      {live.connection === 'token-required' ? (
        <TokenPrompt live={live} />
      ) : (
        <main class="grid">
          <HostsPanel live={live} />
          <div class="column">
            <InFlightPanel live={live} />
            {PART_TWO_FIELDS && <EvacuationsPanel live={live} />}
            {PART_TWO_FIELDS && <QueuePanel live={live} />}
            <DecidedPanel live={live} />
          </div>
          <EventsPanel live={live} />
        </main>
      )}
    </>
  );
}
