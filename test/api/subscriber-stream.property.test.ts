/**
 * Replay plus live, with no gap and no duplicate (docs/contract.md §5), over random interleavings:
 * a real table, its `TableFeeds`, and a few clients that subscribe after any cursor (or live), pull
 * their next item whenever they like (a pull may wait across changes), go away and resume from the
 * cursor of the last item they received, are ended as too slow and resume, or are told to resync
 * when the history they need is gone, while commands change the table between any two of these
 * steps. Small histories, buffers and pages make every one of those paths common.
 *
 * Each client's stream, joined across its resumes, must be exactly what the table published after
 * its first cursor that matches its filter, in order; a chain ended by RESYNC_REQUIRED must be a
 * prefix of it, and is ended so only when the history after its position is really gone.
 */
import fc from 'fast-check';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { EngineEvent, Transition } from '../../src/domain/model.js';
import { formatCursor } from '../../src/domain/table/cursor.js';
import { MigrationTable } from '../../src/domain/table/table.js';
import { TableFeeds } from '../../src/server/subscriptions/feeds.js';
import { ManualClock } from '../utils/clock.js';

const RUNS = 200;
const MAX_OPS = 80;
const HOSTS = ['h1', 'h2', 'h3'] as const;
const VMS = ['v1', 'v2', 'v3', 'v4'] as const;
const CLIENTS = 3;

type Item = Transition | EngineEvent;
type Feed = 'transitions' | 'events';
type Delivery = Item | GraphQLError;

interface ClientSpec {
  readonly feed: Feed;
  readonly vmId: string | null;
  readonly hostId: string | null;
  /** Where it first subscribes: live (no cursor), or after this share of the history so far. */
  readonly from: 'live' | number;
}

interface Settings {
  readonly historyLimit: number;
  readonly bufferItems: number;
  readonly pageItems: number;
}

type Op =
  | { readonly kind: 'report'; readonly hostId: string; readonly vms: readonly { vmId: string; status: 'UP' | 'DOWN' }[] }
  | { readonly kind: 'migrate'; readonly vmId: string }
  /** The host turns its VMs DOWN and UP, one report each, before anyone reads: fills buffers, evicts history. */
  | { readonly kind: 'burst'; readonly hostId: string; readonly reports: number }
  | { readonly kind: 'subscribe'; readonly client: number }
  | { readonly kind: 'pull'; readonly client: number }
  | { readonly kind: 'flush' }
  /** The client reads everything there is, until its pull waits. */
  | { readonly kind: 'catchUp'; readonly client: number }
  | { readonly kind: 'drop'; readonly client: number }
  | { readonly kind: 'resume'; readonly client: number };

const client = fc.nat({ max: CLIENTS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('report' as const),
      hostId: fc.constantFrom(...HOSTS),
      vms: fc.uniqueArray(fc.record({ vmId: fc.constantFrom(...VMS), status: fc.constantFrom('UP' as const, 'DOWN' as const) }), { minLength: 1, maxLength: 3, selector: (v) => v.vmId }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('migrate' as const), vmId: fc.constantFrom(...VMS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('burst' as const), hostId: fc.constantFrom(...HOSTS), reports: fc.integer({ min: 3, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), client }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('pull' as const), client }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('catchUp' as const), client }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resume' as const), client }) },
);

const spec: fc.Arbitrary<ClientSpec> = fc.record({
  feed: fc.constantFrom<Feed>('transitions', 'transitions', 'events'),
  vmId: fc.option(fc.constantFrom(...VMS), { nil: null, freq: 3 }),
  hostId: fc.option(fc.constantFrom(...HOSTS), { nil: null, freq: 3 }),
  from: fc.oneof(fc.constant('live' as const), fc.double({ min: 0, max: 1, noNaN: true })),
});

const settings: fc.Arbitrary<Settings> = fc.record({
  historyLimit: fc.constantFrom(12, 40, 10_000),
  bufferItems: fc.constantFrom(2, 2, 5, 10_000),
  pageItems: fc.constantFrom(1, 3, 256),
});

/** Lets every settled promise run its continuations (a transport between two network events). */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const codeOf = (error: GraphQLError) => error.extensions.code as string;

/** The paths a run can reach; the test counts the runs that reached each and asserts about half the share they reach. */
const PATHS = {
  replayed: { share: 0.6, what: 'a stream opened after a cursor with history to replay' },
  resumed: { share: 0.25, what: 'a client resumed after its stream ended or it went away' },
  woken: { share: 0.2, what: 'a pull that waited, then got the change that came' },
  tooSlow: { share: 0.06, what: 'a stream ended with SUBSCRIBER_TOO_SLOW, then resumed' },
  resync: { share: 0.06, what: 'a stream ended with RESYNC_REQUIRED (its history evicted)' },
} as const;
type Path = keyof typeof PATHS;
const reachedRuns = new Map<Path, number>();
let thisRun = new Set<Path>();
const reach = (path: Path) => thisRun.add(path);

/** One logical subscriber: a chain of streams joined by resumes, until a resync starts a new chain. */
class Client {
  private stream: AsyncIterator<Delivery> | null = null;
  /** The pull in flight, and its result once settled. */
  private inflight: { result?: IteratorResult<Delivery> } | null = null;
  private subscribed = false;
  /** The current chain: where it began and what it received. */
  private startSeq = 0;
  private delivered: Item[] = [];
  /** Chains ended by RESYNC_REQUIRED, to check as prefixes. */
  readonly resynced: { startSeq: number; delivered: Item[] }[] = [];
  private mustResync = false;
  /** The pull in flight was seen waiting (nothing to deliver yet). */
  private waited = false;

  constructor(
    readonly spec: ClientSpec,
    private readonly table: MigrationTable,
    private readonly feeds: TableFeeds,
  ) {}

  subscribe(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    if (this.spec.from === 'live') {
      this.startSeq = this.table.latestSeq;
      this.open(null);
    } else {
      this.startSeq = Math.floor(this.spec.from * this.table.latestSeq);
      this.open(formatCursor(this.table.epoch, this.startSeq));
    }
  }

  pull(): void {
    if (this.stream === null || this.inflight !== null) return;
    const holder: { result?: IteratorResult<Delivery> } = {};
    this.inflight = holder;
    void this.stream.next().then((result) => (holder.result = result));
  }

  /** Takes the settled pull, if any; true when it brought something. */
  collect(): boolean {
    const result = this.inflight?.result;
    if (result === undefined) {
      if (this.inflight !== null) this.waited = true;
      return false;
    }
    this.inflight = null;
    if (this.waited && !result.done) reach('woken');
    this.waited = false;
    if (result.done) {
      this.stream = null;
      return true;
    }
    const value = result.value;
    if (!(value instanceof GraphQLError)) {
      this.delivered.push(value);
      return true;
    }
    this.stream = null; // an error is the stream's last item
    const code = codeOf(value);
    if (code === 'SUBSCRIBER_TOO_SLOW') {
      reach('tooSlow');
    } else if (code === 'RESYNC_REQUIRED') {
      // Only when the history after its position is really gone.
      expect(this.keepsAfter(this.position()), `RESYNC_REQUIRED while the history after ${this.position()} is kept`).toBe(false);
      reach('resync');
      this.resynced.push({ startSeq: this.startSeq, delivered: this.delivered });
      this.mustResync = true;
    } else {
      throw new Error(`unexpected ${code}: ${value.message}`);
    }
    return true;
  }

  /** The client goes away: the server releases its stream; a pull in flight ends with nothing. */
  drop(): void {
    if (this.stream === null) return;
    void this.stream.return?.();
    this.stream = null;
  }

  /** Subscribes again after the last item received (or, after a resync, afresh from the current cursor). */
  resume(): void {
    if (!this.subscribed || this.stream !== null) return;
    this.collect();
    if (this.inflight !== null) return; // the old stream's last pull is not settled yet
    if (this.mustResync) {
      this.mustResync = false;
      this.startSeq = this.table.latestSeq;
      this.delivered = [];
    } else {
      reach('resumed');
    }
    this.open(formatCursor(this.table.epoch, this.position()));
  }

  /** Pulls until nothing more comes; resumes first when its stream has ended. */
  async drain(): Promise<void> {
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.subscribed) return;
      if (this.stream === null) {
        if (this.mustResync) return;
        await flush();
        this.resume();
        if (this.stream === null) continue;
      }
      this.pull();
      await flush();
      if (!this.collect()) return; // the pull waits: it has everything
    }
    throw new Error('the stream never caught up');
  }

  check(published: readonly Item[]): void {
    const expected = (startSeq: number) => published.filter((item) => item.seq > startSeq && this.matches(item)).map((item) => item.seq);
    for (const chain of this.resynced) {
      const seqs = chain.delivered.map((item) => item.seq);
      expect(seqs, 'a chain ended by RESYNC_REQUIRED is a prefix of what the table published').toEqual(expected(chain.startSeq).slice(0, seqs.length));
    }
    if (!this.subscribed || this.mustResync) return;
    expect(this.delivered.map((item) => item.seq), `${JSON.stringify(this.spec)}: replay plus live`).toEqual(expected(this.startSeq));
  }

  private open(after: string | null): void {
    const filter = { vmId: this.spec.vmId, hostId: this.spec.hostId, after };
    this.stream = (this.spec.feed === 'transitions' ? this.feeds.transitions(filter) : this.feeds.events(filter))[Symbol.asyncIterator]();
    if (after !== null && this.table.latestSeq > this.position()) reach('replayed');
  }

  private position(): number {
    return this.delivered.at(-1)?.seq ?? this.startSeq;
  }

  private keepsAfter(seq: number): boolean {
    return (this.spec.feed === 'transitions' ? this.table.transitionsAfter(seq, 1) : this.table.eventsAfter(seq, 1)).ok;
  }

  private matches(item: Item): boolean {
    if (this.spec.feed === 'transitions' ? !('cause' in item) : 'cause' in item) return false;
    return (this.spec.vmId === null || item.vmId === this.spec.vmId) && (this.spec.hostId === null || item.hostIds.includes(this.spec.hostId));
  }
}

describe('replay plus live over random interleavings', () => {
  it('should give each subscriber, across its resumes, exactly what the table published after its cursor, in order', async () => {
    await fc.assert(
      fc.asyncProperty(settings, fc.array(spec, { minLength: CLIENTS, maxLength: CLIENTS }), fc.array(op, { minLength: 1, maxLength: MAX_OPS, size: 'max' }), async (s, specs, ops) => {
        const clock = new ManualClock();
        const table = new MigrationTable({ epoch: 'e1', clock: clock.read, hostTimeoutMs: 60_000, migrationStartTimeoutMs: 30_000, maxAttempts: 3, historyLimit: s.historyLimit });
        const published: Item[] = [];
        table.subscribe((changes) => published.push(...changes.transitions, ...changes.events));
        for (const [i, hostId] of HOSTS.entries()) table.reportVmStatuses({ hostId, vms: VMS.filter((_, v) => v % HOSTS.length === i).map((vmId) => ({ vmId, status: 'UP' })) });
        const feeds = new TableFeeds(table, { bufferItems: s.bufferItems, pageItems: s.pageItems });
        const clients = specs.map((c) => new Client(c, table, feeds));

        for (const o of ops) {
          clock.advance(1);
          switch (o.kind) {
            case 'report':
              table.reportVmStatuses({ hostId: o.hostId, vms: o.vms });
              break;
            case 'migrate':
              table.migrateVm({ vmId: o.vmId });
              break;
            case 'burst':
              for (let i = 0; i < o.reports; i++) table.reportVmStatuses({ hostId: o.hostId, vms: [{ vmId: VMS[i % VMS.length] as string, status: i % 2 === 0 ? 'DOWN' : 'UP' }] });
              break;
            case 'subscribe':
              clients[o.client]?.subscribe();
              break;
            case 'pull':
              clients[o.client]?.pull();
              break;
            case 'flush':
              await flush();
              for (const c of clients) c.collect();
              break;
            case 'catchUp':
              await clients[o.client]?.drain();
              break;
            case 'drop':
              clients[o.client]?.drop();
              break;
            case 'resume':
              clients[o.client]?.resume();
              break;
          }
        }
        for (const c of clients) c.subscribe();
        for (const c of clients) await c.drain();
        // Everything published is in the check: sort the record by seq (transitions and events interleave).
        published.sort((a, b) => a.seq - b.seq);
        for (const c of clients) c.check(published);
        for (const c of clients) c.drop();
        expect(feeds.subscriberCount).toBe(0);
        for (const path of thisRun) reachedRuns.set(path, (reachedRuns.get(path) ?? 0) + 1);
        thisRun = new Set();
      }),
      { numRuns: RUNS },
    );
    const paths = Object.keys(PATHS) as Path[];
    console.log([`replay plus live over ${RUNS} runs:`, ...paths.map((p) => `  ${p.padEnd(8)} ${String(reachedRuns.get(p) ?? 0).padStart(4)} runs (at least ${Math.ceil(PATHS[p].share * RUNS)}): ${PATHS[p].what}`)].join('\n'));
    for (const p of paths) expect(reachedRuns.get(p) ?? 0, `runs that reached ${PATHS[p].what}`).toBeGreaterThanOrEqual(Math.ceil(PATHS[p].share * RUNS));
  });
});
