/**
 * Part-two panels (docs/contract.md §8–§10), drawn only when PART_TWO_FIELDS is on: the queue with
 * `waitingReason`, evacuations with their counts and blockers, and the evacuate / cancel-evacuation
 * actions (the plan, `evacuationPlan`, is shown before anything starts).
 */
import { useState } from 'preact/hooks';
import { ROWS } from '../graphql/documents.js';
import { CANCEL_EVACUATION, EVACUATE_HOST, EVACUATION_PLAN } from '../graphql/part-two.js';
import type { LiveDashboard } from '../live.js';
import type { EvacuationPlanRow, HostRow } from '../model.js';
import { runAction } from './actions.js';
import { statusClass, time, words } from './format.js';

/** Rows of a plan shown at once; the counts say how many more. */
const PLAN_ROWS = 100;

export function QueuePanel({ live }: { live: LiveDashboard }) {
  const all = [...live.store.queue.values()];
  return (
    <section class="panel queue" data-testid="queue">
      <h2>
        Queue <small>{all.length}</small>
      </h2>
      {all.length === 0 ? (
        <p class="empty">Nothing waits for a slot.</p>
      ) : (
        <div class="scroll">
          <table>
            <tbody>
              {all.slice(0, ROWS).map((m) => (
                <tr key={m.id} data-testid={`queued-${m.vmId}`}>
                  <td>
                    {m.vmId}
                    {m.priority === 'EVACUATION' && <span class="tag">evacuation</span>}
                  </td>
                  <td>
                    {m.sourceHostId ?? '?'} → {m.destinationHostId ?? 'automatic'}
                  </td>
                  <td class="reason" data-testid="waiting-reason">
                    {m.waitingReason}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function EvacuationsPanel({ live }: { live: LiveDashboard }) {
  const rows = live.store.evacuations;
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <section class="panel evacuations" data-testid="evacuations">
      <h2>Evacuations</h2>
      {problem && <p class="error">{problem}</p>}
      {rows.length === 0 ? (
        <p class="empty">No evacuation.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>host</th>
              <th>state</th>
              <th>moved / total</th>
              <th>remaining</th>
              <th>failed</th>
              <th>started</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => (
              <tr key={v.id} data-testid={`evacuation-${v.host.id}`}>
                <td>{v.host.id}</td>
                <td>
                  <span class={`badge ${statusClass(v.state)}`} data-testid="evacuation-state">
                    {words(v.state)}
                  </span>
                </td>
                <td class="num">
                  {v.moved} / {v.total}
                </td>
                <td class="num">{v.remaining}</td>
                <td class="num">{v.failed}</td>
                <td class="time">{time(v.startedAt)}</td>
                <td>
                  {(v.state === 'IN_PROGRESS' || v.state === 'FAILED') && (
                    <button
                      type="button"
                      class="small"
                      onClick={() =>
                        void runAction(live, CANCEL_EVACUATION, { input: { hostId: v.host.id } }, 'cancelEvacuation').then((p) => {
                          setProblem(p);
                          live.reloadEvacuationsSoon();
                        })
                      }
                    >
                      cancel
                    </button>
                  )}
                  {v.blockers.length > 0 && (
                    <ul class="holding">
                      {v.blockers.slice(0, 10).map((b) => (
                        <li key={b.vm.id}>
                          {b.vm.id}: {b.reason}
                        </li>
                      ))}
                      {v.blockers.length > 10 && <li>… {v.blockers.length - 10} more</li>}
                    </ul>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** "evacuate" on a host row: reads the plan, shows it, and starts the evacuation on confirmation. */
export function EvacuateButton({ live, host }: { live: LiveDashboard; host: HostRow }) {
  const [plan, setPlan] = useState<EvacuationPlanRow | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  if (host.status !== 'UP' && host.status !== 'MAINTENANCE' && host.status !== 'PREPARING_FOR_MAINTENANCE') return null;
  const close = () => setPlan(null);
  return (
    <>
      <button
        type="button"
        class="small"
        data-testid={`evacuate-${host.id}`}
        onClick={() =>
          live.request<{ evacuationPlan: EvacuationPlanRow }>(EVACUATION_PLAN, { hostId: host.id }).then(
            (data) => (setProblem(null), setPlan(data.evacuationPlan)),
            (error: unknown) => setProblem(error instanceof Error ? error.message : String(error)),
          )
        }
      >
        evacuate
      </button>
      {problem && <span class="error">{problem}</span>}
      {plan && (
        <div class="dialog" role="dialog" aria-label={`evacuate ${host.id}`} data-testid="evacuation-plan">
          <h3>Evacuate {host.id}?</h3>
          <p>
            {plan.moves.length} VMs would move, {plan.blocked.length} cannot. The host becomes preparing for maintenance, then maintenance once empty.
          </p>
          <ul>
            {plan.moves.slice(0, PLAN_ROWS).map((m) => (
              <li key={m.vm.id}>
                {m.vm.id} → {m.destination.id}
              </li>
            ))}
            {plan.blocked.slice(0, PLAN_ROWS).map((b) => (
              <li key={b.vm.id} class="error">
                {b.vm.id}: {b.reason}
              </li>
            ))}
          </ul>
          <button
            type="button"
            data-testid="confirm-evacuation"
            onClick={() =>
              void runAction(live, EVACUATE_HOST, { input: { hostId: host.id } }, 'evacuateHost').then((p) => {
                setProblem(p);
                close();
                live.reloadEvacuationsSoon();
              })
            }
          >
            Evacuate
          </button>
          <button type="button" class="link" onClick={close}>
            Not now
          </button>
        </div>
      )}
    </>
  );
}
