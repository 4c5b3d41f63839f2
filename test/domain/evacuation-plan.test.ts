/**
 * The dry run of an evacuation (docs/contract.md §9 `evacuationPlan`): where each VM UP on the host
 * would go (§4 order among eligible hosts, the plan's own earlier moves counted as load, limits
 * ignored), or why it cannot move; it changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { HostStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  entry,
  observe,
  OTHER,
  OTHER_CLUSTER,
  setupFleet,
  SOURCE,
  startMigration,
  unwrap,
  VM,
  VM_2,
} from '../utils/domain.js';
import { evacuate } from '../utils/evacuation.js';

const VM_3 = 'vm-3';
const VM_4 = 'vm-4';
const LOADED = 'vm-x';

describe('evacuationPlan', () => {
  it('should place each VM by §4 order, counting the earlier moves of the plan as load', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2, VM_3], [DESTINATION]: [LOADED], [OTHER]: [] } });
    const plan = table.evacuationPlan(SOURCE);
    // OTHER is emptiest; then DESTINATION and OTHER carry one each (DESTINATION first by id); then OTHER.
    expect(plan).toEqual({
      hostId: SOURCE,
      moves: [
        { vmId: VM, destinationHostId: OTHER },
        { vmId: VM_2, destinationHostId: DESTINATION },
        { vmId: VM_3, destinationHostId: OTHER },
      ],
      blocked: [],
    });
  });

  it('should ignore the limits: every VM may go to the one eligible host', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2, VM_3, VM_4], [DESTINATION]: [] } });
    expect(table.evacuationPlan(SOURCE)?.moves.map((m) => m.destinationHostId)).toEqual([DESTINATION, DESTINATION, DESTINATION, DESTINATION]);
  });

  it('should say why a VM cannot move when no host is eligible', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [] }, clusters: { [DESTINATION]: OTHER_CLUSTER } });
    unwrap(table.reportHostStatus({ hostId: OTHER, status: HostStatus.MAINTENANCE }));
    expect(table.evacuationPlan(SOURCE)).toEqual({
      hostId: SOURCE,
      moves: [],
      blocked: [{ vmId: VM, reason: `no host can take it: none is UP in cluster default besides ${SOURCE}` }],
    });
  });

  it('should never pick a host that is not UP, and list only the VMs UP on the host', () => {
    const FIRST_BY_ID = 'host-0';
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [], [OTHER]: [], [FIRST_BY_ID]: [VM_3] } });
    startMigration(table, VM_2, DESTINATION); // VM_2 is MIGRATING_FROM, not UP; DESTINATION carries its load
    evacuate(table, FIRST_BY_ID); // VM_3 leaves for OTHER: DESTINATION, OTHER and host-0 now carry one each
    expect(table.host(FIRST_BY_ID)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
    expect(entry(table, VM_3).destination.hostId).toBe(OTHER);
    // host-0 comes first by id among equals, but it is preparing for maintenance.
    expect(table.evacuationPlan(SOURCE)?.moves).toEqual([{ vmId: VM, destinationHostId: DESTINATION }]);
  });

  it('should change nothing', () => {
    const { table, published } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [] } });
    const seen = observe(table);
    const changes = published.length;
    table.evacuationPlan(SOURCE);
    expect(observe(table)).toEqual(seen);
    expect(published).toHaveLength(changes);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
    expect(table.evacuations({}).items).toEqual([]);
  });

  it('should be what evacuateHost then does', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [LOADED], [OTHER]: [] } });
    const plan = table.evacuationPlan(SOURCE);
    evacuate(table, SOURCE);
    expect([VM, VM_2].map((vmId) => ({ vmId, destinationHostId: entry(table, vmId).destination.hostId }))).toEqual(plan?.moves);
  });

  it('should be null for a host Transit does not know', () => {
    const { table } = createTable();
    expect(table.evacuationPlan('host-nowhere')).toBeNull();
  });
});
