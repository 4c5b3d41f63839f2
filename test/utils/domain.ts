/**
 * Helpers for the domain tests: a table with small timeouts, and short ways to say
 * what hosts report. Every number a test asserts against is a named constant here.
 */
import { expect } from 'vitest';
import type { EngineEvent, Host, Migration, Outcome, Transition, UserError, Vm, VmReportInput } from '../../src/domain/model.js';
import { MigrationTable, type ChangeSet, type TableOptions } from '../../src/domain/table/table.js';
import { DEFAULT_CLUSTER, type ErrorCode, type EventType, ReportedVmStatus } from '../../src/domain/vocabulary.js';
import { ManualClock } from './clock.js';

/** The engine run every test table belongs to. */
export const EPOCH = 'test-epoch';
export { T0_MS } from './clock.js';
/** Small timeouts so tests step over them with one `advance`. */
export const HOST_TIMEOUT_MS = 1_000;
export const MIGRATION_START_TIMEOUT_MS = 500;
export const MAX_ATTEMPTS = 3;
export const HISTORY_LIMIT = 10_000;

export const CLUSTER = DEFAULT_CLUSTER;
export const OTHER_CLUSTER = 'cluster-2';

/** The usual cast: a VM migrating from SOURCE to DESTINATION, OTHER a third host of the cluster. */
export const VM = 'vm-1';
export const VM_2 = 'vm-2';
export const SOURCE = 'host-a';
export const DESTINATION = 'host-b';
export const OTHER = 'host-c';
export const SPARE = 'host-d';

export const { UP, DOWN, MIGRATING_FROM, MIGRATING_TO } = ReportedVmStatus;

export interface TestTable {
  readonly table: MigrationTable;
  readonly clock: ManualClock;
  /** Every change set the table published, in order. */
  readonly published: ChangeSet[];
}

export function createTable(overrides: Partial<Omit<TableOptions, 'clock'>> = {}): TestTable {
  const clock = new ManualClock();
  const table = new MigrationTable({
    epoch: EPOCH,
    clock: clock.read,
    hostTimeoutMs: HOST_TIMEOUT_MS,
    migrationStartTimeoutMs: MIGRATION_START_TIMEOUT_MS,
    maxAttempts: MAX_ATTEMPTS,
    historyLimit: HISTORY_LIMIT,
    ...overrides,
  });
  const published: ChangeSet[] = [];
  table.subscribe((changes) => published.push(changes));
  return { table, clock, published };
}

/** The value of an accepted command; fails the test with the refusals otherwise. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw new Error(`expected the command to be accepted, got ${JSON.stringify(outcome.errors)}`);
  return outcome.value;
}

/** The single refusal of a command, checked to carry `code` (and `field` when given). */
export function expectRefused<T>(outcome: Outcome<T>, code: ErrorCode, field?: string | null): UserError {
  expect(outcome.ok).toBe(false);
  if (outcome.ok) throw new Error('unreachable');
  expect(outcome.errors.map((e) => e.code)).toEqual([code]);
  const error = outcome.errors[0] as UserError;
  if (field !== undefined) expect(error.field).toBe(field);
  expect(error.message.length).toBeGreaterThan(0);
  return error;
}

export type ReportExtra = Partial<Pick<VmReportInput, 'progress' | 'exitReason' | 'peerHostId' | 'memoryMiB'>>;
export type ReportLine = readonly [vmId: string, status: ReportedVmStatus, extra?: ReportExtra];
export interface ReportOptions {
  readonly full?: boolean;
  readonly sequence?: number;
  readonly bootId?: string;
  readonly cluster?: string;
}

/** One host's batch: `report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: 10 }]], { full: true })`. */
export function report(table: MigrationTable, hostId: string, lines: readonly ReportLine[], opts: ReportOptions = {}): Outcome<Host> {
  return table.reportVmStatuses({
    hostId,
    vms: lines.map(([vmId, status, extra]) => ({ vmId, status, ...extra })),
    ...opts,
  });
}

/** Registers hosts per cluster and has each host report the VMs it runs (UP). */
export function setupFleet(
  table: MigrationTable,
  fleet: { readonly hosts: Readonly<Record<string, readonly string[]>>; readonly clusters?: Readonly<Record<string, string>> },
): void {
  for (const [hostId, vms] of Object.entries(fleet.hosts)) {
    unwrap(table.registerHost({ hostId, cluster: fleet.clusters?.[hostId] ?? CLUSTER }));
    if (vms.length > 0) unwrap(report(table, hostId, vms.map((vmId) => [vmId, UP] as const)));
  }
}

/** The usual start: VM on SOURCE, DESTINATION and OTHER empty, all in one cluster. */
export function setupPair(table: MigrationTable): void {
  setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [] } });
}

/** Starts a migration and returns its entry; fails the test if refused. */
export function startMigration(table: MigrationTable, vmId: string = VM, destinationHostId?: string): Migration {
  return unwrap(table.migrateVm({ vmId, destinationHostId: destinationHostId ?? null }));
}

/** The source confirms the attempt (MIGRATING_FROM). */
export function confirm(table: MigrationTable, sourceHostId: string = SOURCE, vmId: string = VM, progress?: number): void {
  unwrap(report(table, sourceHostId, [[vmId, MIGRATING_FROM, progress === undefined ? {} : { progress }]]));
}

/** Row 2, in the usual order: the source confirms and lets the VM go, then the destination runs it. */
export function succeed(table: MigrationTable, vmId: string = VM): void {
  const { source, destination } = entry(table, vmId);
  confirm(table, source.hostId as string, vmId);
  unwrap(report(table, source.hostId as string, [[vmId, DOWN]]));
  unwrap(report(table, destination.hostId as string, [[vmId, UP]]));
}

/** Row 3 for the current attempt: the source confirms (with `progress`), keeps the VM, and the destination reports it DOWN. */
export function failAttempt(table: MigrationTable, vmId: string = VM, progress?: number): void {
  const { source, destination } = entry(table, vmId);
  confirm(table, source.hostId as string, vmId, progress);
  unwrap(report(table, source.hostId as string, [[vmId, UP]]));
  unwrap(report(table, destination.hostId as string, [[vmId, DOWN]]));
}

/** The VM's entry in the table; fails the test when it is not migrating. */
export function entry(table: MigrationTable, vmId: string = VM): Migration {
  const found = table.entryOf(vmId);
  if (found === undefined) throw new Error(`VM ${vmId} is not in the migration table`);
  return found;
}

export function vmOf(table: MigrationTable, vmId: string = VM): Vm {
  const found = table.vm(vmId);
  if (found === undefined) throw new Error(`VM ${vmId} is not known`);
  return found;
}

/** Events of one type (optionally about one VM), oldest first. */
export function eventsOf(table: MigrationTable, type: EventType, vmId?: string): EngineEvent[] {
  return [...table.eventLog({ type, vmId: vmId ?? null }, 0, 1_000).items];
}

/** Transitions recorded after `afterSeq`, oldest first. */
export function transitionsSince(table: MigrationTable, afterSeq: number): Transition[] {
  const read = table.transitionsAfter(afterSeq);
  if (!read.ok) throw new Error('transitions evicted');
  return [...read.items];
}

/** Events recorded after `afterSeq`, oldest first. */
export function eventsSince(table: MigrationTable, afterSeq: number): EngineEvent[] {
  const read = table.eventsAfter(afterSeq);
  if (!read.ok) throw new Error('events evicted');
  return [...read.items];
}

/** Everything a reader can see of the table, as plain data: to prove a refusal changed nothing. */
export function observe(table: MigrationTable): unknown {
  return structuredClone({
    latestSeq: table.latestSeq,
    hosts: table.hosts(),
    vms: table.vms({}, 0, 1_000).items,
    migrations: table.migrations({}, 0, 1_000).items,
  });
}
