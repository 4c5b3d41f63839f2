/**
 * `/metrics` in clustered mode: the table's gauges and counters read from whichever table this
 * process owns (none on a replica: the gauges read 0, the totals carry on across the tables it
 * owned), and the cluster's own: role and epoch, lease renewals, takeovers, and how far behind
 * the engine this process reads the change stream.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ChangeListener, TableStats } from '../domain/table/table.js';
import type { MetricsSource } from '../server/http/metrics.js';
import type { ClusterNode } from './cluster-node.js';

const EMPTY_STATS: TableStats = {
  vms: 0,
  vmsByStatus: new Map(),
  entries: 0,
  stalledEntries: 0,
  migrationsByState: new Map(),
  hostsByStatus: new Map(),
  reports: { applied: 0, ignored: 0, outOfOrderBatch: 0, invalidBatch: 0 },
  evacuationsByState: new Map(),
  pending: 0,
  inFlightByHost: new Map(),
  inFlightByCluster: new Map(),
};

/** The table's numbers as this process sees them across takeovers and step-downs. */
export function clusterMetricsSource(node: ClusterNode): MetricsSource {
  return {
    stats(): TableStats {
      const current = node.table?.stats() ?? EMPTY_STATS;
      const base = node.retiredReports;
      const r = current.reports;
      return {
        ...current,
        reports: { applied: base.applied + r.applied, ignored: base.ignored + r.ignored, outOfOrderBatch: base.outOfOrderBatch + r.outOfOrderBatch, invalidBatch: base.invalidBatch + r.invalidBatch },
      };
    },
    hosts(filter) {
      return node.table?.hosts(filter) ?? [];
    },
    subscribe(listener: ChangeListener) {
      node.onTableChange(listener);
      return () => undefined;
    },
  };
}

/** Counters that follow a running total kept elsewhere, brought up to date at scrape time. */
function totalCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const total = read();
      this.inc(Math.max(0, total - seen));
      seen = Math.max(seen, total);
    },
  });
}

export function registerClusterMetrics(node: ClusterNode): (registry: Registry) => void {
  return (registry) => {
    new Gauge({
      name: 'transit_cluster_role',
      help: 'This process’s role in the cluster: 1 for its current role (engine or replica), 0 for the other.',
      labelNames: ['role'],
      registers: [registry],
      collect() {
        this.set({ role: 'engine' }, node.role === 'engine' ? 1 : 0);
        this.set({ role: 'replica' }, node.role === 'replica' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'transit_engine_epoch',
      help: 'The epoch (fencing token) of the engine as this process knows it; 0 when none is known.',
      registers: [registry],
      collect() {
        this.set(node.epoch ?? 0);
      },
    });
    const seen = { renewed: 0, lost: 0, failed: 0 };
    new Counter({
      name: 'transit_lease_renewals_total',
      help: 'Renewals of the engine lease by this process, by outcome: renewed, lost (another process held it), failed (Redis did not answer).',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        for (const outcome of ['renewed', 'lost', 'failed'] as const) {
          this.inc({ outcome }, Math.max(0, node.renewals[outcome] - seen[outcome]));
          seen[outcome] = Math.max(seen[outcome], node.renewals[outcome]);
        }
      },
    });
    totalCounter(registry, 'transit_takeovers_total', 'Times this process took the lease and became the engine (each with a new epoch).', () => node.takeovers);
    totalCounter(registry, 'transit_step_downs_total', 'Times this process stopped being the engine because it could no longer prove it held the lease.', () => node.stepDowns);
    totalCounter(registry, 'transit_stream_entries_read_total', 'Entries of the change stream this process has read.', () => node.mirror.stats.entriesRead);
    totalCounter(registry, 'transit_stream_resyncs_total', 'Times this process’s copy of the change stream started again (new engine run, entries missed, stream lost): its subscribers were ended with RESYNC_REQUIRED.', () => node.mirror.stats.resets);
    new Gauge({
      name: 'transit_stream_lag_seconds',
      help: 'Between the engine appending the latest change this process read and this process reading it (clocks of both machines).',
      registers: [registry],
      collect() {
        this.set(node.mirror.stats.lagMs / 1_000);
      },
    });
  };
}
