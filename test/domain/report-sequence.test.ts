/** Per-host `sequence` and `bootId` (docs/contract.md §3, docs/decisions.md "Sequence"). */
import { describe, expect, it } from 'vitest';
import { ErrorCode, HostStatus, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DOWN,
  expectRefused,
  HOST_TIMEOUT_MS,
  observe,
  report,
  SOURCE,
  unwrap,
  UP,
  VM,
  vmOf,
} from '../utils/domain.js';

const BOOT_1 = 'boot-1';
const BOOT_2 = 'boot-2';
const SEQ = 7;

describe('report sequences', () => {
  it('should refuse whole, with STALE_REPORT, a batch whose sequence is not above the last accepted', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    const before = observe(table);
    expectRefused(report(table, SOURCE, [[VM, DOWN]], { sequence: SEQ, bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'sequence');
    expectRefused(report(table, SOURCE, [[VM, DOWN]], { sequence: SEQ - 1, bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'sequence');
    expect(observe(table)).toEqual(before);
    expect(vmOf(table).status).toBe(VmStatus.UP);
  });

  it('should accept a batch whose sequence is above the last accepted', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: SEQ + 1, bootId: BOOT_1 }));
    expect(vmOf(table).status).toBe(VmStatus.DOWN);
    expect(table.host(SOURCE)).toMatchObject({ bootId: BOOT_1, lastSequence: SEQ + 1 });
  });

  it('should reset the sequence when the host sends a new bootId', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: 1, bootId: BOOT_2 }));
    expect(vmOf(table).status).toBe(VmStatus.DOWN);
    expect(table.host(SOURCE)).toMatchObject({ bootId: BOOT_2, lastSequence: 1 });
    expectRefused(report(table, SOURCE, [[VM, UP]], { sequence: 1, bootId: BOOT_2 }), ErrorCode.STALE_REPORT, 'sequence');
  });

  it('should take a batch without a bootId as coming from the boot the host last named', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    expectRefused(report(table, SOURCE, [[VM, DOWN]], { sequence: SEQ - 1 }), ErrorCode.STALE_REPORT, 'sequence');
    expect(vmOf(table).status).toBe(VmStatus.UP);
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: SEQ + 1 }));
    expect(table.host(SOURCE)).toMatchObject({ bootId: BOOT_1, lastSequence: SEQ + 1 });
  });

  it('should always accept a batch without a sequence', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    unwrap(report(table, SOURCE, [[VM, DOWN]], { bootId: BOOT_1 }));
    expect(vmOf(table).status).toBe(VmStatus.DOWN);
  });

  it('should refuse whole, with STALE_REPORT, a batch from a boot the host has since replaced (issue 12, item 7)', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: 5, bootId: BOOT_1 }));
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: 1, bootId: BOOT_2 }));
    const before = observe(table);
    // A batch boot 1 sent before it ended, delayed: neither below nor above its own sequences may pass.
    expectRefused(report(table, SOURCE, [[VM, UP]], { sequence: 4, bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'bootId');
    expectRefused(report(table, SOURCE, [[VM, UP]], { sequence: 6, bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'bootId');
    expectRefused(report(table, SOURCE, [[VM, UP]], { bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'bootId');
    expect(observe(table)).toEqual(before);
    expect(vmOf(table).status).toBe(VmStatus.DOWN);
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: 2, bootId: BOOT_2 }));
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: 1, bootId: 'boot-3' }));
    expectRefused(report(table, SOURCE, [[VM, UP]], { sequence: 3, bootId: BOOT_2 }), ErrorCode.STALE_REPORT, 'bootId');
  });

  it('should not let one batch lock a boot: a sequence more than 2^32 below the last accepted starts the count over (issue 12, item 7)', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: Number.MAX_SAFE_INTEGER, bootId: BOOT_1 }));
    // Nothing is above 2^53 - 1: before, every later batch of this boot was refused as stale.
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ + 1, bootId: BOOT_1 }));
    expect(vmOf(table).status).toBe(VmStatus.UP);
    expect(table.host(SOURCE)?.lastSequence).toBe(SEQ + 1);
    // Delayed batches just below the last accepted are still stale.
    expectRefused(report(table, SOURCE, [[VM, DOWN]], { sequence: SEQ, bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'sequence');
    const far = 2 ** 40;
    unwrap(report(table, SOURCE, [[VM, DOWN]], { sequence: far, bootId: BOOT_1 }));
    expectRefused(report(table, SOURCE, [[VM, UP]], { sequence: far - 2 ** 32 + 1, bootId: BOOT_1 }), ErrorCode.STALE_REPORT, 'sequence');
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: far - 2 ** 32, bootId: BOOT_1 }));
  });

  it('should not count a stale batch as a sign of life', () => {
    const { table, clock } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }));
    clock.advance(HOST_TIMEOUT_MS - 1);
    expectRefused(report(table, SOURCE, [[VM, UP]], { sequence: SEQ, bootId: BOOT_1 }), ErrorCode.STALE_REPORT);
    clock.advance(1);
    table.tick();
    expect(table.host(SOURCE)?.status).toBe(HostStatus.NON_RESPONSIVE);
  });
});
