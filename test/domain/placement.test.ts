/** Automatic destination choice (docs/contract.md §3–§4, docs/decisions.md "Placement load"). */
import { describe, expect, it } from 'vitest';
import { chooseDestination, type PlacementCandidate } from '../../src/domain/scheduling/placement.js';
import { DestinationChoice, HostStatus } from '../../src/domain/vocabulary.js';
import { CLUSTER, createTable, OTHER_CLUSTER, setupFleet, SOURCE, startMigration, unwrap, VM, VM_2 } from '../utils/domain.js';

const BUSY = 'host-busy';
const IDLE_A = 'host-idle-a';
const IDLE_B = 'host-idle-b';
// Ids that sort first, so only the rule under test can keep them out.
const FAR = 'host-0-far';
const RESTING = 'host-0-resting';

const candidate = (id: string, load: number, status: HostStatus = HostStatus.UP, cluster = CLUSTER): PlacementCandidate => ({
  id,
  cluster,
  status,
  load,
});

describe('choosing a destination', () => {
  it('should choose the UP host of the same cluster with the fewest VMs, then the smallest id', () => {
    const choice = chooseDestination([candidate(BUSY, 2), candidate(IDLE_B, 0), candidate(IDLE_A, 0), candidate(SOURCE, 0)], {
      sourceHostId: SOURCE,
      cluster: CLUSTER,
      excluded: new Set(),
    });
    expect(choice).toBe(IDLE_A);
  });

  it('should never choose the source, a host tried before, another cluster or a host that is not UP', () => {
    const choice = chooseDestination(
      [
        candidate(SOURCE, 0),
        candidate(IDLE_A, 0),
        candidate(FAR, 0, HostStatus.UP, OTHER_CLUSTER),
        candidate(RESTING, 0, HostStatus.MAINTENANCE),
        candidate('host-0-silent', 0, HostStatus.NON_RESPONSIVE),
        candidate('host-0-rebooting', 0, HostStatus.REBOOTING),
        candidate(BUSY, 5),
      ],
      { sourceHostId: SOURCE, cluster: CLUSTER, excluded: new Set([IDLE_A]) },
    );
    expect(choice).toBe(BUSY);
  });

  it('should choose nothing when no host qualifies', () => {
    expect(chooseDestination([candidate(SOURCE, 0)], { sourceHostId: SOURCE, cluster: CLUSTER, excluded: new Set() })).toBeNull();
  });

  it('should have the table pick the emptiest UP host of the cluster and never one in MAINTENANCE', () => {
    const { table } = createTable();
    setupFleet(table, {
      hosts: { [SOURCE]: [VM], [BUSY]: [VM_2], [IDLE_B]: [], [RESTING]: [], [FAR]: [] },
      clusters: { [FAR]: OTHER_CLUSTER },
    });
    unwrap(table.reportHostStatus({ hostId: RESTING, status: HostStatus.MAINTENANCE }));
    const m = startMigration(table, VM);
    expect(m.destination.hostId).toBe(IDLE_B);
    expect(m.destinationChoice).toBe(DestinationChoice.ENGINE);
  });

  it('should count migrations already heading to a host, so a burst does not land on one host', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [IDLE_A]: [], [IDLE_B]: [] } });
    expect(startMigration(table, VM).destination.hostId).toBe(IDLE_A);
    expect(startMigration(table, VM_2).destination.hostId).toBe(IDLE_B);
  });
});
