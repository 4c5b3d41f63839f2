/**
 * The seed's second way into the table, and the engine restart (docs/contract.md §3, docs/decisions.md
 * "Discovered entries"): a fresh table rebuilt from reports alone never decides from one side.
 */
import { describe, expect, it } from 'vitest';
import {
  DestinationChoice,
  EventType,
  ExitReason,
  HostCommandKind,
  MigrationState,
  VmLocation,
  VmStatus,
} from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  MIGRATING_FROM,
  MIGRATING_TO,
  MIGRATION_START_TIMEOUT_MS,
  OTHER,
  report,
  SOURCE,
  unwrap,
  UP,
  VM,
  vmOf,
} from '../utils/domain.js';

const PEER_UNKNOWN = 'peer unknown';
const NOT_REGISTERED = 'has not registered';
const PROGRESS = 35;

describe('entries found in reports', () => {
  it('should add an entry from MIGRATING_FROM with the reporter as source and the named peer as destination', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, []));
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { peerHostId: DESTINATION, progress: PROGRESS }]]));
    expect(entry(table)).toMatchObject({
      source: { hostId: SOURCE, report: MIGRATING_FROM },
      destination: { hostId: DESTINATION, report: null },
      destinationChoice: DestinationChoice.DISCOVERED,
      sourceConfirmed: true,
      progress: PROGRESS,
      stalled: false,
      vmStatus: VmStatus.MIGRATING_FROM,
      location: VmLocation.SOURCE,
    });
    expect(vmOf(table)).toMatchObject({ status: VmStatus.MIGRATING_FROM, hostId: SOURCE });
    const [started] = eventsOf(table, EventType.MIGRATION_STARTED, VM);
    expect(started?.message).toContain(SOURCE);
  });

  it('should add an entry from MIGRATING_TO with the reporter as destination and the VM’s former host as source', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(entry(table)).toMatchObject({
      source: { hostId: SOURCE, report: null },
      destination: { hostId: DESTINATION, report: MIGRATING_TO },
      stalled: false,
    });
  });

  it('should apply a source UP at once: no order of Transit’s can arrive late, and end FAILED without rerun', () => {
    const { table } = createTable();
    unwrap(report(table, OTHER, []));
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { peerHostId: DESTINATION }]]));
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    unwrap(report(table, SOURCE, [[VM, UP]]));
    expect(entry(table).source.report).toBe(UP);
    const { id } = entry(table);
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    expect(table.migration(id)).toMatchObject({ state: MigrationState.FAILED, attempt: 1 });
    expect(eventsOf(table, EventType.MIGRATION_TRYING_RERUN)).toHaveLength(0);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
  });

  it('should have no start timeout and send no order for a discovered entry', () => {
    const { table, clock } = createTable();
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO, { peerHostId: SOURCE }]]));
    unwrap(report(table, SOURCE, []));
    clock.advance(MIGRATION_START_TIMEOUT_MS * 2);
    unwrap(report(table, SOURCE, []));
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    table.tick();
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);
    expect(table.pendingCommands(SOURCE).filter((c) => c.kind === HostCommandKind.MIGRATE)).toEqual([]);
  });
});

describe('after an engine restart', () => {
  it('should rebuild the entry from both sides’ reports and succeed only once both are heard', () => {
    const { table } = createTable(); // a fresh table: no hosts, no VMs
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { peerHostId: DESTINATION }]], { full: true }));
    unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: ExitReason.MIGRATION_SUCCEEDED }]], { full: true }));
    // One side only: nothing is declared.
    expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, vmStatus: VmStatus.MIGRATING_FROM });
    const { id } = entry(table);

    unwrap(report(table, DESTINATION, [[VM, UP]], { full: true }));
    expect(table.migration(id)?.state).toBe(MigrationState.SUCCEEDED);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
  });

  it('should not decide an entry rebuilt from the destination alone', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO, { peerHostId: SOURCE }]]));
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, source: { report: null } });
  });

  it('should stall an entry whose peer is unknown, reason "peer unknown", until the peer reports', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]]));
    expect(entry(table)).toMatchObject({ stalled: true, destination: { hostId: null } });
    expect(entry(table).stalledReason).toContain(PEER_UNKNOWN);
    expect(eventsOf(table, EventType.MIGRATION_STALLED, VM)).toHaveLength(1);

    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);

    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(entry(table)).toMatchObject({ stalled: false, stalledReason: null, destination: { hostId: DESTINATION, report: MIGRATING_TO } });
    expect(entry(table).attempts.map((a) => a.destinationHostId)).toEqual([DESTINATION]);
  });

  it('should take as missing destination the first other host that reports the VM UP', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]]));
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    expect(entry(table).destination).toMatchObject({ hostId: DESTINATION, report: UP });
    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION, migrationId: null });
  });

  it('should record in the attempt the destination learned from the very report that decides (issue 12, item 11)', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, []));
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]])); // no peer named
    const id = entry(table).id;
    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    unwrap(report(table, DESTINATION, [[VM, UP]])); // names the destination and decides at once
    const done = table.migration(id);
    expect(done).toMatchObject({ state: MigrationState.SUCCEEDED, destination: { hostId: DESTINATION } });
    expect(done?.attempts.map((a) => ({ destination: a.destinationHostId, state: a.state }))).toEqual([{ destination: DESTINATION, state: MigrationState.SUCCEEDED }]);
  });

  it('should take as missing source the first other host that reports the VM MIGRATING_FROM, not a DOWN', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(entry(table).stalledReason).toContain(PEER_UNKNOWN);
    unwrap(report(table, OTHER, [[VM, DOWN]]));
    expect(entry(table).source.hostId).toBeNull();
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]]));
    expect(entry(table)).toMatchObject({ source: { hostId: SOURCE, report: MIGRATING_FROM }, stalled: false });
  });

  it('should ignore MIGRATING_TO from another host while the destination is known and the source missing', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    unwrap(report(table, OTHER, [[VM, MIGRATING_TO]]));
    expect(entry(table).source.hostId).toBeNull();
    expect(eventsOf(table, EventType.REPORT_IGNORED, VM).map((e) => e.hostId)).toEqual([OTHER]);
  });

  it('should take the peer a later report of the known side names', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    unwrap(report(table, SOURCE, []));
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO, { peerHostId: SOURCE }]]));
    expect(entry(table)).toMatchObject({ source: { hostId: SOURCE, report: null }, stalled: false, stalledReason: null });
  });

  it('should stall, reason "has not registered", on a named peer Transit has never heard from', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { peerHostId: DESTINATION }]]));
    expect(entry(table).stalled).toBe(true);
    expect(entry(table).stalledReason).toContain(NOT_REGISTERED);
    expect(entry(table).stalledReason).toContain(DESTINATION);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(entry(table)).toMatchObject({ stalled: false, stalledReason: null });
  });
});
