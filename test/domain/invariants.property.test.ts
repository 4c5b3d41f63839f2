/**
 * Invariants no table lists (STYLE.md "Distilled" 7), over random histories of every command:
 * nothing throws, indexes agree with records, cursors strictly increase, snapshots never change,
 * no outcome is ever declared from a side not heard in the attempt or not trustworthy, an
 * undecided entry whose pair is one of rows 1–3 always says what blocks it (§10), and the
 * engine never starts more attempts than the limits allow (§8). Tight limits and short deadlines
 * keep the queue and aborts busy.
 *
 * The outcome check keeps its own model of what each host said and when (from the commands this
 * test sends, not from the table), and of each host's status (from the published transitions).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECISION_TABLE, decide } from '../../src/domain/decision-table.js';
import type { EngineEvent, Migration, MigrationAttempt, Outcome, Transition } from '../../src/domain/model.js';
import type { ChangeSet, MigrationTable } from '../../src/domain/table/table.js';
import {
  Cause,
  DestinationChoice,
  EvacuationState,
  EventType,
  FenceMethod,
  HOST_STATUSES,
  HostStatus,
  isResponsive,
  MigrationState,
  REPORTED_VM_STATUSES,
  ReportedVmStatus,
  VmLocation,
  VmStatus,
} from '../../src/domain/vocabulary.js';
import { CLUSTERS, HOSTS, host, MAX_ADVANCE_MS, normalise, reportStep, VMS, vm, type MigrateStep, type ReportStep } from '../utils/random-histories.js';
import { createTable, MIGRATION_START_TIMEOUT_MS } from '../utils/domain.js';

const RUNS = 500;
const MAX_STEPS = 60;

/**
 * Histories these properties once failed on, checked first on every run. An evacuation counted a
 * VM both moved and failed (moved + failed > total): a migration found in a report joined it, ended
 * FAILED, and another one then moved the VM.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fast-check's example tuples are typed by the arbitraries below
const FOUND: any[] = [
  [
    { clusters: ['c1', 'c1', 'c1', 'c1'], placement: ['h1', 'h1', 'h1', 'h1'] },
    [
      { kind: 'report', hostId: 'h3', items: [{ vmId: 'v3', status: 'MIGRATING_FROM', progress: null, exitReason: null, peerHostId: null }], full: false, sequence: undefined, bootId: undefined },
      { kind: 'side', vmId: 'v3', role: 'destination', status: 'UP', fallback: 'h1' },
      { kind: 'evacuate', hostId: 'h3' },
      { kind: 'report', hostId: 'h3', items: [{ vmId: 'v1', status: 'UP', progress: null, exitReason: null, peerHostId: null }], full: true, sequence: undefined, bootId: undefined },
      {
        kind: 'report',
        hostId: 'h2',
        items: [
          { vmId: 'v3', status: 'MIGRATING_TO', progress: null, exitReason: null, peerHostId: 'h3' },
          { vmId: 'v1', status: 'UP', progress: null, exitReason: null, peerHostId: null },
        ],
        full: false,
        sequence: undefined,
        bootId: undefined,
      },
      { kind: 'report', hostId: 'h3', items: [], full: true, sequence: undefined, bootId: undefined },
      { kind: 'side', vmId: 'v3', role: 'destination', status: 'DOWN', fallback: 'h1' },
      { kind: 'report', hostId: 'h1', items: [], full: false, sequence: undefined, bootId: undefined },
    ],
  ],
];
const LIMITS = { maxOutgoingPerHost: 1, maxIncomingPerHost: 1, maxPerCluster: 2 };
const TABLE_SETTINGS = {
  limits: LIMITS,
  migrationQueueTimeoutMs: 1_500,
  migrationProgressTimeoutMs: 700,
  migrationCompletionTimeoutPerGibMs: 600,
};

type Step =
  | MigrateStep
  | ReportStep
  /** A side of the VM's entry (or `fallback` when the VM is not migrating) reports the VM: drives entries to decisions. */
  | { readonly kind: 'side'; readonly vmId: string; readonly role: 'source' | 'destination'; readonly status: ReportedVmStatus; readonly fallback: string }
  | { readonly kind: 'hostStatus'; readonly hostId: string; readonly status: HostStatus }
  | { readonly kind: 'fence'; readonly hostId: string; readonly succeeded: boolean }
  | { readonly kind: 'cancel'; readonly vmId: string; readonly byMigrationId: boolean }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'evacuate'; readonly hostId: string }
  | { readonly kind: 'cancelEvacuation'; readonly hostId: string };

const kind = <K extends Step['kind']>(k: K) => fc.constant(k);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: reportStep },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: kind('side'),
      vmId: vm,
      role: fc.constantFrom('source' as const, 'destination' as const),
      status: fc.constantFrom(...REPORTED_VM_STATUSES),
      fallback: host,
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: kind('migrate'), vmId: vm, destination: fc.option(host, { nil: null, freq: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: kind('hostStatus'), hostId: host, status: fc.constantFrom(...HOST_STATUSES) }) },
  { weight: 2, arbitrary: fc.record({ kind: kind('fence'), hostId: host, succeeded: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: kind('cancel'), vmId: vm, byMigrationId: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: kind('advance'), ms: fc.integer({ min: 0, max: MAX_ADVANCE_MS }) }) },
  { weight: 2, arbitrary: fc.record({ kind: kind('evacuate'), hostId: host }) },
  { weight: 1, arbitrary: fc.record({ kind: kind('cancelEvacuation'), hostId: host }) },
);

/** What one host said about one VM, as this test sent it. */
interface Said {
  readonly step: number;
  readonly order: number;
  readonly status: ReportedVmStatus;
  readonly fenced: boolean;
}

/** The test's own memory of the history, to judge each decision the table makes. */
class Witness {
  stepIndex = 0;
  private order = 0;
  private readonly said = new Map<string, Said[]>();
  readonly hostStatus = new Map<string, HostStatus>();
  private readonly attemptStart = new Map<string, { step: number; attempt: number; discoveredBy: string | null }>();
  private readonly lastSnapshot = new Map<string, Migration>();

  heard(hostId: string, vmId: string, status: ReportedVmStatus, fenced = false): void {
    const key = `${hostId}|${vmId}`;
    this.said.set(key, [...(this.said.get(key) ?? []), { step: this.stepIndex, order: ++this.order, status, fenced }]);
  }

  observe(t: Transition): void {
    if (t.hostStatusTo !== null && t.hostId !== null) this.hostStatus.set(t.hostId, t.hostStatusTo);
    const m = t.migration;
    if (m === null) return;
    const previous = this.lastSnapshot.get(m.id);
    for (const a of m.attempts) {
      const before = previous?.attempts.find((p) => p.attempt === a.attempt);
      if (a.state !== MigrationState.IN_PROGRESS && (before === undefined || before.state === MigrationState.IN_PROGRESS)) this.judge(t, m, a);
    }
    const start = this.attemptStart.get(m.id);
    // An attempt begins when it leaves the queue, not when it enters it.
    if (m.state === MigrationState.IN_PROGRESS && (start === undefined || start.attempt !== m.attempt)) {
      // §3, §9: Transit starts an attempt only towards a host that is UP (never one preparing for maintenance).
      if (m.destinationChoice !== DestinationChoice.DISCOVERED && m.destination.hostId !== null) {
        expect(this.hostStatus.get(m.destination.hostId), `migration ${m.id} attempt ${m.attempt} started towards ${m.destination.hostId}`).toBe(HostStatus.UP);
      }
      const discoveredBy = start === undefined && m.destinationChoice === DestinationChoice.DISCOVERED ? t.hostId : null;
      this.attemptStart.set(m.id, { step: this.stepIndex, attempt: m.attempt, discoveredBy });
    }
    this.lastSnapshot.set(m.id, m);
  }

  /** Everything a side's host said about the VM in the current attempt that the table could apply. */
  private appliedBy(m: Migration, role: 'source' | 'destination'): Said[] {
    const hostId = m[role].hostId;
    const start = this.attemptStart.get(m.id);
    if (hostId === null || start === undefined) return [];
    const inAttempt = (this.said.get(`${hostId}|${m.vmId}`) ?? []).filter(
      (s) => s.step > start.step || (s.step === start.step && hostId === start.discoveredBy),
    );
    if (role === 'destination') return inAttempt.filter((s) => s.status !== ReportedVmStatus.MIGRATING_FROM);
    const confirmedAt = m.destinationChoice === DestinationChoice.DISCOVERED ? 0 : (inAttempt.find(confirms)?.order ?? Infinity);
    return inAttempt.filter((s) => s.status !== ReportedVmStatus.MIGRATING_TO && (s.status !== ReportedVmStatus.UP || s.order > confirmedAt));
  }

  private trusted(hostId: string | null, said: readonly Said[]): boolean {
    const status = hostId === null ? undefined : this.hostStatus.get(hostId);
    return (status !== undefined && isResponsive(status)) || said.at(-1)?.fenced === true;
  }

  private judge(t: Transition, m: Migration, a: MigrationAttempt): void {
    const where = `migration ${m.id} attempt ${a.attempt} decided ${a.state} by ${t.cause} (seq ${t.seq})`;
    const start = this.attemptStart.get(m.id);
    expect(start?.attempt, where).toBe(a.attempt);
    const source = this.appliedBy(m, 'source');
    const destination = this.appliedBy(m, 'destination');
    expect(this.trusted(m.source.hostId, source), `${where}: source untrusted`).toBe(true);
    expect(this.trusted(m.destination.hostId, destination), `${where}: destination untrusted`).toBe(true);

    if (t.cause === Cause.START_TIMEOUT) {
      expect(m.destinationChoice, where).not.toBe(DestinationChoice.DISCOVERED);
      expect((m.endedAt ?? 0) - m.attemptStartedAt, where).toBeGreaterThanOrEqual(MIGRATION_START_TIMEOUT_MS);
      expect(source.some(confirms), `${where}: the source had confirmed`).toBe(false);
      expect([ReportedVmStatus.MIGRATING_TO, ReportedVmStatus.UP], `${where}: the destination had begun`).not.toContain(destination.at(-1)?.status);
      return;
    }
    const s = source.at(-1);
    const d = destination.at(-1);
    if (s === undefined || d === undefined) throw new Error(`${where}: a side was not heard in this attempt`);
    expect(m.source.report, where).not.toBeNull();
    expect(m.destination.report, where).not.toBeNull();
    if (m.destinationChoice !== DestinationChoice.DISCOVERED) expect(source.some(confirms), `${where}: the source never confirmed`).toBe(true);
    const rule = DECISION_TABLE[s.status][d.status];
    const expected = rule.outcome === MigrationState.FAILED && m.cancelRequested ? MigrationState.CANCELLED : rule.outcome;
    expect(a.state, `${where}: table says ${s.status} × ${d.status} → ${rule.outcome}`).toBe(expected);
    if (rule.outcome === MigrationState.VM_DOWN) expect(d.fenced || d.order > s.order, `${where}: destination DOWN not fresh`).toBe(true);
  }
}

const confirms = (s: Said): boolean => s.fenced || s.status === ReportedVmStatus.MIGRATING_FROM || s.status === ReportedVmStatus.DOWN;

function send(table: MigrationTable, witness: Witness, s: Step, advance: (ms: number) => void): Outcome<unknown> | null {
  switch (s.kind) {
    case 'migrate':
      return table.migrateVm({ vmId: s.vmId, destinationHostId: s.destination });
    case 'side': {
      const hostId = table.entryOf(s.vmId)?.[s.role].hostId ?? s.fallback;
      const asReport: Step = { kind: 'report', hostId, items: [{ vmId: s.vmId, status: s.status }], full: false, sequence: undefined, bootId: undefined };
      return send(table, witness, asReport, advance);
    }
    case 'report': {
      const items = s.items.map((i) => normalise(s.hostId, i));
      const outcome = table.reportVmStatuses({ hostId: s.hostId, vms: items, full: s.full, sequence: s.sequence ?? null, bootId: s.bootId ?? null });
      if (outcome.ok) {
        for (const i of items) witness.heard(s.hostId, i.vmId, i.status);
        if (s.full) for (const v of VMS) if (!items.some((i) => i.vmId === v)) witness.heard(s.hostId, v, ReportedVmStatus.DOWN);
      }
      return outcome;
    }
    case 'hostStatus':
      return table.reportHostStatus({ hostId: s.hostId, status: s.status });
    case 'fence': {
      const outcome = table.reportFenceResult({ hostId: s.hostId, succeeded: s.succeeded, method: FenceMethod.AUTOMATIC });
      if (outcome.ok && s.succeeded) for (const v of VMS) witness.heard(s.hostId, v, ReportedVmStatus.DOWN, true);
      return outcome;
    }
    case 'cancel': {
      const migrationId = table.entryOf(s.vmId)?.id ?? `${s.vmId}-none`;
      return table.cancelMigration(s.byMigrationId ? { migrationId } : { vmId: s.vmId });
    }
    case 'advance':
      advance(s.ms);
      table.tick();
      return null;
    case 'evacuate':
      return table.evacuateHost({ hostId: s.hostId });
    case 'cancelEvacuation':
      return table.cancelEvacuation({ hostId: s.hostId });
  }
}

/** §9: what every evacuation and every host preparing for maintenance must look like after any command. */
function checkEvacuations(table: MigrationTable, completedNow: readonly string[]): void {
  for (const h of HOSTS) {
    const latest = table.evacuations({ hostId: h }, 0, 1).items[0];
    const status = table.host(h)?.status;
    if (status === HostStatus.PREPARING_FOR_MAINTENANCE) {
      expect(latest?.state === EvacuationState.IN_PROGRESS || latest?.state === EvacuationState.FAILED, `host ${h} prepares for maintenance with no evacuation holding it`).toBe(true);
    }
    if (latest?.state === EvacuationState.IN_PROGRESS) {
      expect([HostStatus.PREPARING_FOR_MAINTENANCE, HostStatus.NON_RESPONSIVE, HostStatus.REBOOTING], `host ${h} is being evacuated`).toContain(status);
      expect(latest.remaining).toBe(table.vmIdsOnHost(h).length);
    }
  }
  for (const e of table.evacuations({}, 0, 1_000).items) {
    expect(e.moved + e.failed, `evacuation ${e.id}`).toBeLessThanOrEqual(e.total);
    if (e.state === EvacuationState.FAILED) expect(e.blockers.length, `evacuation ${e.id} failed without blockers`).toBe(e.remaining);
  }
  // The moment an evacuation completes, its host runs no VM.
  for (const h of completedNow) expect(table.vmIdsOnHost(h), `host ${h} completed its evacuation`).toEqual([]);
}

function checkState(table: MigrationTable, witness: Witness): void {
  expect(table.checkConsistency()).toEqual([]);
  checkQueueAndBlockers(table);
  const placed = new Map<string, string>();
  for (const h of HOSTS) for (const v of table.vmIdsOnHost(h)) {
    expect(placed.has(v), `VM ${v} on both ${placed.get(v)} and ${h}`).toBe(false);
    placed.set(v, h);
  }
  for (const v of VMS) {
    const record = table.vm(v);
    if (record === undefined) continue;
    expect(placed.get(v) ?? null).toBe(record.hostId);
    const e = table.entryOf(v);
    if (e === undefined) {
      expect(record.status).not.toBe(VmStatus.MIGRATING_FROM);
      if (record.status === VmStatus.UP) expect(record.hostId).not.toBeNull();
      continue;
    }
    expect(record).toMatchObject({ status: VmStatus.MIGRATING_FROM, hostId: e.source.hostId, location: VmLocation.SOURCE, migrationId: e.id });
    expect(e).toMatchObject({ state: MigrationState.IN_PROGRESS, vmStatus: VmStatus.MIGRATING_FROM, location: VmLocation.SOURCE });
    for (const side of [e.source, e.destination]) {
      const status = side.hostId === null ? undefined : witness.hostStatus.get(side.hostId);
      const frozen = side.hostId === null || status === undefined || (!isResponsive(status) && !side.fenced);
      if (frozen) expect(e.stalled, `entry ${e.id}: side ${side.hostId} is ${status}`).toBe(true);
    }
  }
}

/** §8 and §10 after every command: limits held by the engine's own starts, pending VMs still on their host, blockers where a decision waits. */
function checkQueueAndBlockers(table: MigrationTable): void {
  const all = table.migrations({}, 0, 10_000).items;
  const started = all.filter((m) => m.state === MigrationState.IN_PROGRESS && m.destinationChoice !== DestinationChoice.DISCOVERED);
  const count = (pick: (m: Migration) => string | null) => {
    const counts = new Map<string, number>();
    for (const m of started) {
      const key = pick(m);
      if (key !== null) counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  };
  // Discovered entries count against the limits but are never refused: only the engine's starts are bounded.
  for (const [h, n] of count((m) => m.source.hostId)) expect(n, `outgoing of ${h}`).toBeLessThanOrEqual(LIMITS.maxOutgoingPerHost);
  for (const [h, n] of count((m) => m.destination.hostId)) expect(n, `incoming of ${h}`).toBeLessThanOrEqual(LIMITS.maxIncomingPerHost);
  for (const [c, n] of count((m) => table.host(m.source.hostId as string)?.cluster ?? null)) expect(n, `cluster ${c}`).toBeLessThanOrEqual(LIMITS.maxPerCluster);
  for (const m of all) {
    if (m.state !== MigrationState.IN_PROGRESS) expect(m.blockedBy, `migration ${m.id} is ${m.state}`).toEqual([]);
    expect(m.waitingReason === null, `waitingReason of ${m.id} (${m.state})`).toBe(m.state !== MigrationState.PENDING);
    if (m.state === MigrationState.PENDING) {
      const vm = table.vm(m.vmId);
      expect(vm?.hostId, `pending ${m.id}`).toBe(m.source.hostId);
      expect([VmStatus.UP, VmStatus.UNKNOWN], `pending ${m.id}`).toContain(vm?.status);
      expect(table.entryOf(m.vmId)).toBeUndefined();
    }
    if (m.state === MigrationState.IN_PROGRESS && m.source.report !== null && m.destination.report !== null) {
      const row = decide(m.source.report, m.destination.report).row;
      if (row !== null && row <= 3) expect(m.blockedBy.length, `undecided ${m.id} on row ${row} says nothing blocks it`).toBeGreaterThan(0);
    }
  }
}

const isIncreasing = (seqs: readonly number[]) => seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number));

describe('invariants over random histories', () => {
  it('should hold after every command: consistent indexes, increasing cursors, immutable snapshots, outcomes only from trusted heard sides', () => {
    const setup = fc.record({
      clusters: fc.tuple(...HOSTS.map(() => fc.constantFrom(...CLUSTERS))),
      placement: fc.tuple(...VMS.map(() => host)),
    });
    fc.assert(
      fc.property(setup, fc.array(step, { minLength: 1, maxLength: MAX_STEPS, size: 'max' }), ({ clusters, placement }, steps) => {
        const { table, clock } = createTable(TABLE_SETTINGS);
        const witness = new Witness();
        const pending: ChangeSet[] = [];
        const transitions: Transition[] = [];
        const events: EngineEvent[] = [];
        const frozen: string[] = [];
        table.subscribe((c) => pending.push(c));
        const settle = () => {
          for (const c of pending.splice(0)) {
            for (const t of c.transitions) {
              witness.observe(t);
              transitions.push(t);
              frozen.push(JSON.stringify(t.migration));
            }
            events.push(...c.events);
          }
        };
        HOSTS.forEach((h, i) => table.registerHost({ hostId: h, cluster: clusters[i] }));
        VMS.forEach((v, i) => {
          table.reportVmStatuses({ hostId: placement[i] as string, vms: [{ vmId: v, status: ReportedVmStatus.UP }] });
          witness.heard(placement[i] as string, v, ReportedVmStatus.UP);
        });
        settle();
        for (const s of steps) {
          witness.stepIndex++;
          const before = table.latestSeq;
          const outcome = send(table, witness, s, (ms) => clock.advance(ms));
          if (outcome !== null && !outcome.ok) {
            expect(table.latestSeq, `a refused ${s.kind} changed the table`).toBe(before);
            expect(pending).toEqual([]);
          }
          const completedNow = pending.flatMap((c) => c.events).filter((e) => e.type === EventType.EVACUATION_COMPLETED).map((e) => e.hostId as string);
          settle();
          checkState(table, witness);
          checkEvacuations(table, completedNow);
        }
        expect(isIncreasing(transitions.map((t) => t.seq))).toBe(true);
        expect(isIncreasing(events.map((e) => e.seq))).toBe(true);
        expect(transitions.map((t) => JSON.stringify(t.migration))).toEqual(frozen);
      }),
      { numRuns: RUNS, examples: FOUND },
    );
  }, 180_000); // 500 random histories of up to 60 commands: tens of seconds on a shared machine
});
