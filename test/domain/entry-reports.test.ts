/**
 * Reports about a VM in the table (docs/contract.md §2–§3): role contradictions and third hosts are
 * ignored, UP/UP is loud once, progress only grows, a repeated report makes no transition, and
 * exit reasons reach the event messages.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { Cause, EventType, ExitReason, MigrationState, Severity, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  eventsSince,
  MIGRATING_FROM,
  MIGRATING_TO,
  OTHER,
  report,
  setupPair,
  SOURCE,
  startMigration,
  transitionsSince,
  unwrap,
  UP,
  VM,
  vmOf,
} from '../utils/domain.js';

const PROGRESS_HIGH = 40;
const PROGRESS_LOW = 20;
const PROGRESS_HIGHER = 60;

describe('reports about a VM in the table', () => {
  let table: MigrationTable;
  let migrationId: string;
  beforeEach(() => {
    table = createTable().table;
    setupPair(table);
    migrationId = startMigration(table, VM, DESTINATION).id;
  });

  describe('reports that cannot be applied', () => {
    it('should ignore MIGRATING_TO from the source with a REPORT_IGNORED warning', () => {
      confirm(table);
      const before = table.latestSeq;
      unwrap(report(table, SOURCE, [[VM, MIGRATING_TO]]));
      expect(entry(table).source.report).toBe(MIGRATING_FROM);
      expect(transitionsSince(table, before)).toEqual([]);
      const [ignored, ...more] = eventsSince(table, before);
      expect(more).toHaveLength(0);
      expect(ignored).toMatchObject({ type: EventType.REPORT_IGNORED, severity: Severity.WARNING, vmId: VM, hostId: SOURCE, migrationId });
      expect(ignored?.message).toContain(MIGRATING_TO);
    });

    it('should ignore MIGRATING_FROM from the destination with a REPORT_IGNORED warning', () => {
      const before = table.latestSeq;
      unwrap(report(table, DESTINATION, [[VM, MIGRATING_FROM]]));
      expect(entry(table).destination.report).toBeNull();
      expect(transitionsSince(table, before)).toEqual([]);
      expect(eventsSince(table, before).map((e) => [e.type, e.hostId])).toEqual([[EventType.REPORT_IGNORED, DESTINATION]]);
    });

    it.each([UP, MIGRATING_FROM, MIGRATING_TO])('should ignore %s from a third host with a REPORT_IGNORED naming it', (status) => {
      const before = table.latestSeq;
      unwrap(report(table, OTHER, [[VM, status]]));
      expect(entry(table)).toMatchObject({ source: { hostId: SOURCE, report: null }, destination: { hostId: DESTINATION, report: null } });
      expect(vmOf(table)).toMatchObject({ status: VmStatus.MIGRATING_FROM, hostId: SOURCE });
      expect(transitionsSince(table, before)).toEqual([]);
      const [ignored, ...more] = eventsSince(table, before);
      expect(more).toHaveLength(0);
      expect(ignored).toMatchObject({ type: EventType.REPORT_IGNORED, severity: Severity.WARNING, hostId: OTHER, migrationId });
      expect(ignored?.message).toContain(OTHER);
    });

    it('should drop a DOWN from a third host without a word (docs/decisions.md)', () => {
      const before = table.latestSeq;
      unwrap(report(table, OTHER, [[VM, DOWN]]));
      unwrap(report(table, OTHER, [], { full: true }));
      expect(table.latestSeq).toBe(before);
    });
  });

  it('should raise VM_RUNNING_ON_BOTH_HOSTS once for UP/UP, decide nothing, and succeed when the source lets go', () => {
    confirm(table);
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    const [both, ...more] = eventsOf(table, EventType.VM_RUNNING_ON_BOTH_HOSTS, VM);
    expect(more).toHaveLength(0);
    expect(both).toMatchObject({ severity: Severity.ERROR, migrationId });
    expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, vmStatus: VmStatus.MIGRATING_FROM, runningOnBoth: true });

    unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: ExitReason.MIGRATION_SUCCEEDED }]]));
    expect(table.migration(migrationId)?.state).toBe(MigrationState.SUCCEEDED);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
  });

  it('should keep progress from going down within an attempt', () => {
    confirm(table, SOURCE, VM, PROGRESS_HIGH);
    confirm(table, SOURCE, VM, PROGRESS_LOW);
    expect(entry(table).progress).toBe(PROGRESS_HIGH);
    confirm(table, SOURCE, VM, PROGRESS_HIGHER);
    expect(entry(table).progress).toBe(PROGRESS_HIGHER);
  });

  it('should make no transition for a side that repeats what it said', () => {
    confirm(table);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    const before = table.latestSeq;
    confirm(table);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(table.latestSeq).toBe(before);
  });

  it('should record a changed side as a HOST_REPORT transition from that host', () => {
    const before = table.latestSeq;
    confirm(table);
    const [t, ...more] = transitionsSince(table, before);
    expect(more).toHaveLength(0);
    expect(t).toMatchObject({ cause: Cause.HOST_REPORT, hostId: SOURCE, vmId: VM });
    expect(t?.migration?.source.report).toBe(MIGRATING_FROM);
    expect(t?.migration?.sourceConfirmed).toBe(true);
  });

  it('should set the destination DOWN when its full batch does not list the VM', () => {
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    unwrap(report(table, DESTINATION, [], { full: true }));
    expect(entry(table).destination.report).toBe(DOWN);
  });

  describe('exit reasons in event messages', () => {
    it('should name the source’s exit reason in MIGRATION_SUCCEEDED', () => {
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: ExitReason.MIGRATION_SUCCEEDED }]]));
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      const [succeeded] = eventsOf(table, EventType.MIGRATION_SUCCEEDED, VM);
      expect(succeeded?.message).toContain(ExitReason.MIGRATION_SUCCEEDED);
    });

    it('should name the destination’s exit reason in MIGRATION_FAILED', () => {
      const reason = 'libvirt: connection reset';
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, UP]]));
      unwrap(report(table, DESTINATION, [[VM, DOWN, { exitReason: reason }]]));
      const [failed] = eventsOf(table, EventType.MIGRATION_FAILED, VM);
      expect(failed?.message).toContain(reason);
      expect(table.migration(migrationId)?.reason).toContain(reason);
    });

    it('should name the exit reason in the VM_DOWN that ends a migration, as an ERROR', () => {
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: ExitReason.MIGRATION_FAILED }]]));
      unwrap(report(table, DESTINATION, [[VM, DOWN]]));
      const [down] = eventsOf(table, EventType.VM_DOWN, VM);
      expect(down).toMatchObject({ severity: Severity.ERROR, migrationId });
      expect(down?.message).toContain(ExitReason.MIGRATION_FAILED);
      expect(table.migration(migrationId)?.state).toBe(MigrationState.VM_DOWN);
    });
  });
});
