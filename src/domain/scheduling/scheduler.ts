/**
 * The scheduler (docs/contract.md §8), as a pure function: given the queue, the hosts and what is
 * in flight, it decides for every pending migration, in start order, whether it starts now (and
 * where), waits (and for what), or ends without starting (and why). It reads no state and writes
 * none: `rules/queue-rules.ts` turns its decisions into transitions, events and orders.
 *
 * - **Start order**: evacuation priority first, then the order the migrations were accepted (a
 *   rerun keeps its migration's place). A migration that cannot start never holds back one behind
 *   it that can: every pending migration is considered, in order, against the slots left.
 * - **Limits** (0 = none), over attempts in flight, discovered ones included: outgoing per source
 *   host, incoming per destination host, in flight per cluster.
 * - **Eligible** (automatic destination): UP, same cluster, not the source, not tried before by this
 *   migration. **Free**: eligible and below its incoming limit. The destination is chosen among the
 *   free hosts when the attempt starts (§4 order: fewest VMs, then id).
 */
import { chooseDestination, isEligible, type PlacementCandidate } from './placement.js';
import type { Millis } from '../model.js';
import { HostStatus, isResponsive, MigrationPriority } from '../vocabulary.js';

export interface SchedulingLimits {
  /** Attempts in flight leaving one host; 0: no limit. */
  readonly maxOutgoingPerHost: number;
  /** Attempts in flight heading to one host; 0: no limit. */
  readonly maxIncomingPerHost: number;
  /** Attempts in flight in one cluster; 0: no limit. */
  readonly maxPerCluster: number;
}

/** Where a pending migration's VM stands. */
export const VmOnSource = {
  /** UP on the source host, not migrating: it can go. */
  UP: 'UP',
  /** Its host stopped answering: nobody can say; it waits. */
  UNKNOWN: 'UNKNOWN',
  /** A report says it no longer runs UP there (down, elsewhere, or migrating without us). */
  GONE: 'GONE',
} as const;
export type VmOnSource = (typeof VmOnSource)[keyof typeof VmOnSource];

export interface QueuedMigration {
  readonly id: string;
  readonly vmId: string;
  readonly priority: MigrationPriority;
  /** The order of acceptance (the migration's ordinal; a rerun keeps it). */
  readonly order: number;
  readonly sourceHostId: string;
  /** The destination the user named; null for an automatic one. */
  readonly destinationHostId: string | null;
  /** Hosts this migration tried before (never chosen again). */
  readonly excluded: ReadonlySet<string>;
  readonly vm: VmOnSource;
  /** When the current attempt entered the queue. */
  readonly queuedAt: Millis;
}

export interface SchedulerHost extends PlacementCandidate {
  /** Attempts in flight leaving it, and heading to it. */
  readonly outgoing: number;
  readonly incoming: number;
}

export interface SchedulerInput {
  readonly queue: readonly QueuedMigration[];
  /** Every host of the clusters the queued migrations' sources belong to, by id. */
  readonly hosts: ReadonlyMap<string, SchedulerHost>;
  /** Attempts in flight per cluster. */
  readonly clusterInFlight: ReadonlyMap<string, number>;
  readonly limits: SchedulingLimits;
  readonly now: Millis;
  /** A migration pending this long ends FAILED; 0: no queue deadline. */
  readonly queueTimeoutMs: number;
}

export const FailureKind = {
  VM_NOT_ON_SOURCE: 'VM_NOT_ON_SOURCE',
  NO_ELIGIBLE_HOST: 'NO_ELIGIBLE_HOST',
  QUEUE_TIMEOUT: 'QUEUE_TIMEOUT',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

export type SchedulerDecision =
  | { readonly kind: 'START'; readonly migrationId: string; readonly destinationHostId: string }
  | { readonly kind: 'WAIT'; readonly migrationId: string; readonly reason: string }
  | { readonly kind: 'FAIL'; readonly migrationId: string; readonly failure: FailureKind; readonly reason: string };

const PRIORITY_RANK: Readonly<Record<MigrationPriority, number>> = { [MigrationPriority.EVACUATION]: 0, [MigrationPriority.NORMAL]: 1 };

/** Evacuations first, then by acceptance. */
export const startOrder = (a: Pick<QueuedMigration, 'priority' | 'order'>, b: Pick<QueuedMigration, 'priority' | 'order'>): number =>
  PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.order - b.order;

const isFull = (count: number, limit: number): boolean => limit > 0 && count >= limit;

/** The reason words of docs/contract.md §8. */
export const waitingReasons = {
  outgoing: (hostId: string, count: number, limit: number) => `${hostId} has ${count} of ${limit} outgoing migrations`,
  incoming: (hostId: string, count: number, limit: number) => `${hostId} has ${count} of ${limit} incoming migrations`,
  cluster: (cluster: string, count: number, limit: number) => `cluster ${cluster} has ${count} of ${limit} migrations in flight`,
  noFreeDestination: () => 'no eligible destination has a free incoming slot',
  sourceNotResponsive: (hostId: string, status: string) => `source host ${hostId} is ${status}`,
};

/** Every pending migration's decision, in start order. */
export function planQueue(input: SchedulerInput): SchedulerDecision[] {
  const { limits } = input;
  const outgoing = new Map<string, number>();
  const incoming = new Map<string, number>();
  const load = new Map<string, number>();
  const clusterCount = new Map(input.clusterInFlight);
  const byCluster = new Map<string, SchedulerHost[]>();
  for (const host of input.hosts.values()) {
    outgoing.set(host.id, host.outgoing);
    incoming.set(host.id, host.incoming);
    load.set(host.id, host.load);
    const members = byCluster.get(host.cluster);
    if (members === undefined) byCluster.set(host.cluster, [host]);
    else members.push(host);
  }
  const decisions: SchedulerDecision[] = [];
  for (const m of [...input.queue].sort(startOrder)) {
    const source = input.hosts.get(m.sourceHostId);
    const fail = (failure: FailureKind, reason: string) => decisions.push({ kind: 'FAIL', migrationId: m.id, failure, reason });
    if (m.vm === VmOnSource.GONE || source === undefined) {
      fail(FailureKind.VM_NOT_ON_SOURCE, `VM ${m.vmId} no longer runs UP on ${m.sourceHostId}`);
      continue;
    }
    const request = { sourceHostId: source.id, cluster: source.cluster, excluded: m.destinationHostId === null ? m.excluded : new Set<string>() };
    const named = m.destinationHostId === null ? undefined : input.hosts.get(m.destinationHostId);
    const eligible = (byCluster.get(source.cluster) ?? []).filter((h) => isEligible(h, request) && (m.destinationHostId === null || h.id === m.destinationHostId));
    if (eligible.length === 0) {
      fail(
        FailureKind.NO_ELIGIBLE_HOST,
        m.destinationHostId === null
          ? `no host in cluster ${source.cluster} can take VM ${m.vmId} any more`
          : `destination ${m.destinationHostId} can no longer take VM ${m.vmId} (${named === undefined ? 'not known' : named.cluster !== source.cluster ? `now in cluster ${named.cluster}` : named.status})`,
      );
      continue;
    }
    const inCluster = clusterCount.get(source.cluster) ?? 0;
    const sourceOut = outgoing.get(source.id) ?? 0;
    const free = eligible.filter((h) => !isFull(incoming.get(h.id) ?? 0, limits.maxIncomingPerHost));
    let waitFor: string | null = null;
    if (m.vm === VmOnSource.UNKNOWN || !isResponsive(source.status)) {
      waitFor = waitingReasons.sourceNotResponsive(source.id, m.vm === VmOnSource.UNKNOWN && isResponsive(source.status) ? HostStatus.NON_RESPONSIVE : source.status);
    } else if (isFull(sourceOut, limits.maxOutgoingPerHost)) waitFor = waitingReasons.outgoing(source.id, sourceOut, limits.maxOutgoingPerHost);
    else if (isFull(inCluster, limits.maxPerCluster)) waitFor = waitingReasons.cluster(source.cluster, inCluster, limits.maxPerCluster);
    else if (free.length === 0) {
      const only = eligible[0] as SchedulerHost;
      waitFor =
        m.destinationHostId === null ? waitingReasons.noFreeDestination() : waitingReasons.incoming(only.id, incoming.get(only.id) ?? 0, limits.maxIncomingPerHost);
    }
    if (waitFor === null) {
      const destination = chooseDestination(
        free.map((h) => ({ ...h, load: load.get(h.id) ?? 0 })),
        request,
      ) as string;
      outgoing.set(source.id, sourceOut + 1);
      incoming.set(destination, (incoming.get(destination) ?? 0) + 1);
      load.set(destination, (load.get(destination) ?? 0) + 1);
      clusterCount.set(source.cluster, inCluster + 1);
      decisions.push({ kind: 'START', migrationId: m.id, destinationHostId: destination });
    } else if (input.queueTimeoutMs > 0 && input.now - m.queuedAt >= input.queueTimeoutMs) {
      fail(FailureKind.QUEUE_TIMEOUT, `waited ${Math.round((input.now - m.queuedAt) / 1000)} s in the queue (queue timeout); ${waitFor}`);
    } else {
      decisions.push({ kind: 'WAIT', migrationId: m.id, reason: waitFor });
    }
  }
  return decisions;
}
