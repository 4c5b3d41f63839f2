/**
 * Migrations in flight (progress, both sides' latest reports, what holds the decision back),
 * the start-a-migration form, and the newest outcomes. At most ROWS rows in flight are shown.
 */
import { useState } from 'preact/hooks';
import { DOCUMENTS, ROWS } from '../graphql/documents.js';
import type { LiveDashboard } from '../live.js';
import type { MigrationRow } from '../model.js';
import { runAction } from './actions.js';
import { statusClass, time, words } from './format.js';
import { ProgressBar } from './progress.js';

function Reports({ m }: { m: MigrationRow }) {
  const side = (report: string | null) => <span class={`report ${report ? statusClass(report) : 's-unheard'}`}>{report ? words(report) : 'not heard'}</span>;
  return (
    <span class="reports">
      {side(m.sourceReport)} / {side(m.destinationReport)}
    </span>
  );
}

/** Why it is not decided yet: `blockedBy` (part two), the stall, the abort, the cancel. */
function Holding({ m }: { m: MigrationRow }) {
  const lines: string[] = [];
  for (const b of m.blockedBy ?? []) lines.push(`${b.code}: ${b.message}`);
  if (m.blockedBy === undefined && m.stalled) lines.push(`stalled: ${m.stalledReason ?? ''}`);
  if (m.abortReason) lines.push(`aborting: ${m.abortReason}`);
  if (m.cancelRequested) lines.push('cancel asked');
  return lines.length === 0 ? null : (
    <ul class="holding" data-testid="blocked-by">
      {lines.map((l) => (
        <li key={l}>{l}</li>
      ))}
    </ul>
  );
}

function StartMigration({ live }: { live: LiveDashboard }) {
  const [vmId, setVmId] = useState('');
  const [destination, setDestination] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const hosts = [...live.store.hosts.values()].filter((h) => h.status === 'UP');
  return (
    <form
      class="inline"
      data-testid="start-migration"
      onSubmit={(e) => {
        e.preventDefault();
        const input = { vmId: vmId.trim(), ...(destination.trim() ? { destinationHostId: destination.trim() } : {}) };
        void runAction(live, DOCUMENTS.migrateVm, { input }, 'migrateVm').then((problem) =>
          setMessage(problem === null ? { ok: true, text: `migration of ${input.vmId} started` } : { ok: false, text: problem }),
        );
      }}
    >
      <input name="vmId" placeholder="VM id" required value={vmId} onInput={(e) => setVmId((e.target as HTMLInputElement).value)} />
      <input name="destination" placeholder="destination (automatic)" list="up-hosts" value={destination} onInput={(e) => setDestination((e.target as HTMLInputElement).value)} />
      <datalist id="up-hosts">
        {hosts.slice(0, 200).map((h) => (
          <option key={h.id} value={h.id} />
        ))}
      </datalist>
      <button type="submit">Migrate</button>
      {message && (
        <span class={message.ok ? 'ok' : 'error'} data-testid="start-result" role="status">
          {message.text}
        </span>
      )}
    </form>
  );
}

function CancelButton({ live, m }: { live: LiveDashboard; m: MigrationRow }) {
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        class="small"
        disabled={m.cancelRequested}
        data-testid={`cancel-${m.id}`}
        onClick={() => void runAction(live, DOCUMENTS.cancelMigration, { input: { migrationId: m.id } }, 'cancelMigration').then(setProblem)}
      >
        cancel
      </button>
      {problem && <span class="error">{problem}</span>}
    </>
  );
}

export function InFlightPanel({ live }: { live: LiveDashboard }) {
  const all = [...live.store.inFlight.values()];
  const rows = all.slice(0, ROWS);
  return (
    <section class="panel migrations" data-testid="in-flight">
      <h2>
        Migrations in flight <small>{all.length}{live.store.inFlightTruncated ? '+' : ''}</small>
      </h2>
      <StartMigration live={live} />
      {rows.length === 0 ? (
        <p class="empty">No migration in flight.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>VM</th>
              <th>source → destination</th>
              <th>progress</th>
              <th title="the latest report of each side in this attempt">reports (source / destination)</th>
              <th>attempt</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-testid={`migration-${m.vmId}`} class={m.stalled ? 'stalled' : ''}>
                <td>
                  {m.vmId}
                  {m.priority === 'EVACUATION' && <span class="tag">evacuation</span>}
                </td>
                <td>
                  {m.sourceHostId ?? '?'} → {m.destinationHostId ?? '?'}
                </td>
                <td>
                  <ProgressBar value={m.progress} state={m.state} />
                </td>
                <td>
                  <Reports m={m} />
                  <Holding m={m} />
                </td>
                <td class="num">{m.attempt}</td>
                <td>
                  <CancelButton live={live} m={m} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function DecidedPanel({ live }: { live: LiveDashboard }) {
  const rows = live.store.decided;
  return (
    <section class="panel decided" data-testid="decided">
      <h2>Outcomes since this page opened</h2>
      {rows.length === 0 ? (
        <p class="empty">No outcome yet.</p>
      ) : (
        <table>
          <tbody>
            {rows.map((m) => (
              <tr key={m.id} data-testid={`outcome-${m.vmId}`}>
                <td class="time">{time(m.endedAt)}</td>
                <td>{m.vmId}</td>
                <td>
                  <span class={`badge ${statusClass(m.state)}`} data-testid="outcome-state">
                    {words(m.state)}
                  </span>
                </td>
                <td>
                  {m.sourceHostId ?? '?'} → {m.destinationHostId ?? '?'}
                </td>
                <td class="reason">{m.abortReason ?? m.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
