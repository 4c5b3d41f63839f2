/**
 * Hosts by cluster, with status and slot use (migrations in flight out of and into each host).
 * At most HOST_ROWS rows at once: a filter and pages, never the whole fleet.
 */
import { useState } from 'preact/hooks';
import { PART_TWO_FIELDS } from '../graphql/part-two.js';
import type { LiveDashboard } from '../live.js';
import { statusClass, words } from './format.js';
import { EvacuateButton } from './part-two.js';

export const HOST_ROWS = 100;

export function HostsPanel({ live }: { live: LiveDashboard }) {
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);
  const use = live.store.slotUse();
  const needle = filter.trim().toLowerCase();
  const clusters = live.store.clusters();
  const total = live.store.hosts.size;
  // One flat list (cluster headers between), paged.
  const rows = clusters.flatMap(({ cluster, hosts }) =>
    hosts.filter((h) => needle === '' || h.id.toLowerCase().includes(needle) || cluster.toLowerCase().includes(needle) || h.status.toLowerCase().includes(needle)).map((host) => ({ cluster, host })),
  );
  const pages = Math.max(1, Math.ceil(rows.length / HOST_ROWS));
  const current = Math.min(page, pages - 1);
  const shown = rows.slice(current * HOST_ROWS, (current + 1) * HOST_ROWS);
  const summary = new Map(clusters.map(({ cluster, hosts }) => [cluster, hosts]));
  let lastCluster: string | null = null;
  return (
    <section class="panel hosts" data-testid="hosts">
      <h2>
        Hosts <small>{total}</small>
      </h2>
      <input class="filter" type="search" placeholder="filter: host, cluster or status" value={filter} onInput={(e) => (setFilter((e.target as HTMLInputElement).value), setPage(0))} />
      <table>
        <thead>
          <tr>
            <th>host</th>
            <th>status</th>
            <th title="migrations in flight leaving this host">out</th>
            <th title="migrations in flight arriving on this host">in</th>
            {PART_TWO_FIELDS && <th />}
          </tr>
        </thead>
        <tbody>
          {shown.map(({ cluster, host }) => {
            const header =
              cluster !== lastCluster ? (
                <tr class="cluster" key={`c-${cluster}`}>
                  <th colSpan={PART_TWO_FIELDS ? 5 : 4}>
                    {cluster} <ClusterSummary hosts={summary.get(cluster) ?? []} />
                  </th>
                </tr>
              ) : null;
            lastCluster = cluster;
            const slots = use.get(host.id);
            return [
              header,
              <tr key={host.id} data-testid={`host-${host.id}`}>
                <td>{host.id}</td>
                <td>
                  <span class={`badge ${statusClass(host.status)}`}>{words(host.status)}</span>
                </td>
                <td class={`num ${slots?.outgoing ? 'busy' : ''}`}>{slots?.outgoing ?? 0}</td>
                <td class={`num ${slots?.incoming ? 'busy' : ''}`}>{slots?.incoming ?? 0}</td>
                {PART_TWO_FIELDS && (
                  <td>
                    <EvacuateButton live={live} host={host} />
                  </td>
                )}
              </tr>,
            ];
          })}
        </tbody>
      </table>
      {pages > 1 && (
        <div class="pager">
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            ‹
          </button>
          <span>
            {current * HOST_ROWS + 1}–{Math.min(rows.length, (current + 1) * HOST_ROWS)} of {rows.length}
          </span>
          <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            ›
          </button>
        </div>
      )}
    </section>
  );
}

function ClusterSummary({ hosts }: { hosts: readonly { status: string }[] }) {
  const counts = new Map<string, number>();
  for (const h of hosts) counts.set(h.status, (counts.get(h.status) ?? 0) + 1);
  return (
    <small>
      {hosts.length} hosts
      {[...counts.entries()].map(([status, n]) => (
        <span key={status} class={`count ${statusClass(status)}`}>
          {' '}
          · {n} {words(status)}
        </span>
      ))}
    </small>
  );
}
