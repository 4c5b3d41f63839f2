/**
 * The scheduler as a pure function (docs/contract.md §8), table-driven: each row is a queue, the
 * hosts with what is in flight, and the decisions expected, in start order.
 */
import { describe, expect, it } from 'vitest';
import {
  planQueue,
  startOrder,
  VmOnSource,
  type QueuedMigration,
  type SchedulerDecision,
  type SchedulerHost,
  type SchedulerInput,
  type SchedulingLimits,
} from '../../src/domain/scheduling/scheduler.js';
import { HostStatus, MigrationPriority } from '../../src/domain/vocabulary.js';

const C1 = 'c1';
const C2 = 'c2';
const LIMITS: SchedulingLimits = { maxOutgoingPerHost: 2, maxIncomingPerHost: 2, maxPerCluster: 5 };
const NO_LIMITS: SchedulingLimits = { maxOutgoingPerHost: 0, maxIncomingPerHost: 0, maxPerCluster: 0 };
const NOW = 1_000_000;

const host = (id: string, extra: Partial<SchedulerHost> = {}): SchedulerHost => ({
  id,
  cluster: C1,
  status: HostStatus.UP,
  load: 0,
  outgoing: 0,
  incoming: 0,
  ...extra,
});

/** `m(3, 'a')`: the migration accepted third, from host `a`, automatic destination. */
const m = (order: number, source: string, extra: Partial<QueuedMigration> = {}): QueuedMigration => ({
  id: `m${order}`,
  vmId: `vm${order}`,
  priority: MigrationPriority.NORMAL,
  order,
  sourceHostId: source,
  destinationHostId: null,
  excluded: new Set(),
  vm: VmOnSource.UP,
  queuedAt: NOW,
  ...extra,
});

const start = (order: number, destination: string): SchedulerDecision => ({ kind: 'START', migrationId: `m${order}`, destinationHostId: destination });
const wait = (order: number, reason: string): SchedulerDecision => ({ kind: 'WAIT', migrationId: `m${order}`, reason });
const fail = (order: number, failure: string, reason: string | RegExp): unknown => ({
  kind: 'FAIL',
  migrationId: `m${order}`,
  failure,
  reason: typeof reason === 'string' ? reason : expect.stringMatching(reason),
});

interface Row {
  readonly name: string;
  readonly queue: readonly QueuedMigration[];
  readonly hosts: readonly SchedulerHost[];
  readonly clusterInFlight?: Readonly<Record<string, number>>;
  readonly limits?: SchedulingLimits;
  readonly queueTimeoutMs?: number;
  readonly expected: readonly unknown[];
}

const ROWS: readonly Row[] = [
  {
    name: 'starts at once when the limits allow, on the emptiest free host (then by id)',
    queue: [m(1, 'a')],
    hosts: [host('a'), host('b', { load: 3 }), host('d', { load: 1 }), host('c', { load: 1 })],
    expected: [start(1, 'c')],
  },
  {
    name: 'waits when the source has its outgoing limit in flight, naming the host',
    queue: [m(1, 'a')],
    hosts: [host('a', { outgoing: 2 }), host('b')],
    clusterInFlight: { [C1]: 2 },
    expected: [wait(1, 'a has 2 of 2 outgoing migrations')],
  },
  {
    name: 'waits when the cluster has its limit in flight, naming the cluster',
    queue: [m(1, 'a')],
    hosts: [host('a'), host('b')],
    clusterInFlight: { [C1]: 5 },
    expected: [wait(1, 'cluster c1 has 5 of 5 migrations in flight')],
  },
  {
    name: 'waits when every eligible destination is at its incoming limit',
    queue: [m(1, 'a')],
    hosts: [host('a'), host('b', { incoming: 2 }), host('c', { incoming: 2 })],
    expected: [wait(1, 'no eligible destination has a free incoming slot')],
  },
  {
    name: 'never chooses a host at its incoming limit, even the emptiest',
    queue: [m(1, 'a')],
    hosts: [host('a'), host('b', { incoming: 2, load: 0 }), host('c', { load: 9 })],
    expected: [start(1, 'c')],
  },
  {
    name: 'makes a named destination at its incoming limit wait, naming it',
    queue: [m(1, 'a', { destinationHostId: 'b' })],
    hosts: [host('a'), host('b', { incoming: 2 }), host('c')],
    expected: [wait(1, 'b has 2 of 2 incoming migrations')],
  },
  {
    name: 'starts a named destination when it is free, even when another host is emptier',
    queue: [m(1, 'a', { destinationHostId: 'c' })],
    hosts: [host('a'), host('b'), host('c', { load: 7 })],
    expected: [start(1, 'c')],
  },
  {
    name: 'starts in the order accepted, each start taking its slots: the third waits for the source',
    queue: [m(3, 'a'), m(1, 'a'), m(2, 'a')],
    hosts: [host('a'), host('b'), host('c')],
    expected: [start(1, 'b'), start(2, 'c'), wait(3, 'a has 2 of 2 outgoing migrations')],
  },
  {
    name: 'never lets one that cannot start hold back one behind it that can',
    queue: [m(1, 'a'), m(2, 'b')],
    hosts: [host('a', { outgoing: 2, load: 5 }), host('b'), host('c')],
    clusterInFlight: { [C1]: 2 },
    expected: [wait(1, 'a has 2 of 2 outgoing migrations'), start(2, 'c')],
  },
  {
    name: 'starts evacuations first, then by acceptance',
    queue: [m(1, 'a'), m(2, 'a', { priority: MigrationPriority.EVACUATION }), m(3, 'a')],
    hosts: [host('a'), host('b'), host('c')],
    expected: [start(2, 'b'), start(1, 'c'), wait(3, 'a has 2 of 2 outgoing migrations')],
  },
  {
    name: 'spreads a burst over the free hosts by counting the ones it just started',
    queue: [m(1, 'a'), m(2, 'd')],
    hosts: [host('a', { load: 5 }), host('b'), host('c'), host('d', { load: 5 })],
    expected: [start(1, 'b'), start(2, 'c')],
  },
  {
    name: 'counts the cluster limit across the pass',
    queue: [m(1, 'a'), m(2, 'b'), m(3, 'c')],
    hosts: [host('a', { load: 5 }), host('b', { load: 5 }), host('c', { load: 5 }), host('d'), host('e'), host('f')],
    clusterInFlight: { [C1]: 3 },
    expected: [start(1, 'd'), start(2, 'e'), wait(3, 'cluster c1 has 5 of 5 migrations in flight')],
  },
  {
    name: 'knows no limit at 0',
    queue: [m(1, 'a'), m(2, 'a'), m(3, 'a')],
    hosts: [host('a', { outgoing: 9 }), host('b', { incoming: 9 })],
    clusterInFlight: { [C1]: 99 },
    limits: NO_LIMITS,
    expected: [start(1, 'b'), start(2, 'b'), start(3, 'b')],
  },
  {
    name: 'chooses only in the source cluster, never the source, a host tried before, or one not UP',
    queue: [m(1, 'a', { excluded: new Set(['b']) })],
    hosts: [
      host('a'),
      host('b'),
      host('c', { status: HostStatus.MAINTENANCE }),
      host('d', { status: HostStatus.NON_RESPONSIVE }),
      host('e', { cluster: C2 }),
      host('f', { load: 5 }),
    ],
    expected: [start(1, 'f')],
  },
  {
    name: 'ends a migration for which no host is eligible any more',
    queue: [m(1, 'a', { excluded: new Set(['b']) })],
    hosts: [host('a'), host('b'), host('c', { status: HostStatus.MAINTENANCE })],
    expected: [fail(1, 'NO_ELIGIBLE_HOST', 'no host in cluster c1 can take VM vm1 any more')],
  },
  {
    name: 'ends a migration whose named destination can no longer take it',
    queue: [m(1, 'a', { destinationHostId: 'b' })],
    hosts: [host('a'), host('b', { status: HostStatus.MAINTENANCE }), host('c')],
    expected: [fail(1, 'NO_ELIGIBLE_HOST', /destination b can no longer take VM vm1 \(MAINTENANCE\)/)],
  },
  {
    name: 'ends a migration whose VM no longer runs UP on its source',
    queue: [m(1, 'a', { vm: VmOnSource.GONE })],
    hosts: [host('a'), host('b')],
    expected: [fail(1, 'VM_NOT_ON_SOURCE', 'VM vm1 no longer runs UP on a')],
  },
  {
    name: 'makes a migration wait while its source host does not answer',
    queue: [m(1, 'a', { vm: VmOnSource.UNKNOWN })],
    hosts: [host('a', { status: HostStatus.NON_RESPONSIVE }), host('b')],
    expected: [wait(1, 'source host a is NON_RESPONSIVE')],
  },
  {
    name: 'ends a migration that waited longer than the queue timeout, with what it waited for',
    queue: [m(1, 'a', { queuedAt: NOW - 60_000 }), m(2, 'a', { queuedAt: NOW - 59_999 })],
    hosts: [host('a', { outgoing: 2 }), host('b')],
    queueTimeoutMs: 60_000,
    expected: [fail(1, 'QUEUE_TIMEOUT', 'waited 60 s in the queue (queue timeout); a has 2 of 2 outgoing migrations'), wait(2, 'a has 2 of 2 outgoing migrations')],
  },
  {
    name: 'starts a migration past the queue timeout when a slot is free',
    queue: [m(1, 'a', { queuedAt: NOW - 600_000 })],
    hosts: [host('a'), host('b')],
    queueTimeoutMs: 60_000,
    expected: [start(1, 'b')],
  },
];

describe('the scheduler (pure)', () => {
  it.each(ROWS)('should decide: $name', (row) => {
    const input: SchedulerInput = {
      queue: row.queue,
      hosts: new Map(row.hosts.map((h) => [h.id, h])),
      clusterInFlight: new Map(Object.entries(row.clusterInFlight ?? {})),
      limits: row.limits ?? LIMITS,
      now: NOW,
      queueTimeoutMs: row.queueTimeoutMs ?? 0,
    };
    expect(planQueue(input)).toEqual(row.expected);
  });

  it('should order evacuations first, then by acceptance', () => {
    const queue = [m(3, 'a'), m(5, 'a', { priority: MigrationPriority.EVACUATION }), m(1, 'a'), m(4, 'a', { priority: MigrationPriority.EVACUATION })];
    expect([...queue].sort(startOrder).map((q) => q.id)).toEqual(['m4', 'm5', 'm1', 'm3']);
  });
});
