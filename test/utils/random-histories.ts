/**
 * What the property tests over random histories share (test/domain/invariants.property.test.ts,
 * test/domain/coverage.property.test.ts): the small fleet they play on, the report steps they
 * draw, and how a drawn report is made one the input checks would accept.
 */
import fc from 'fast-check';
import type { VmReportInput } from '../../src/domain/model.js';
import { ExitReason, REPORTED_VM_STATUSES, ReportedVmStatus } from '../../src/domain/vocabulary.js';
import { HOST_TIMEOUT_MS } from './domain.js';

export const HOSTS = ['h1', 'h2', 'h3', 'h4'] as const;
export const VMS = ['v1', 'v2', 'v3', 'v4'] as const;
export const CLUSTERS = ['c1', 'c2'] as const;
/** The most the clock moves in one step: below the host timeout, so that a silent host can still be heard in time. */
export const MAX_ADVANCE_MS = Math.round(HOST_TIMEOUT_MS * 0.75);

export const host = fc.constantFrom(...HOSTS);
export const vm = fc.constantFrom(...VMS);

/** Absent three times in four. */
export const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 4 });

export interface MigrateStep {
  readonly kind: 'migrate';
  readonly vmId: string;
  readonly destination: string | null;
}

export interface ReportStep {
  readonly kind: 'report';
  readonly hostId: string;
  readonly items: readonly VmReportInput[];
  readonly full: boolean;
  readonly sequence: number | undefined;
  readonly bootId: string | undefined;
}

const reportItem = fc.record({
  vmId: vm,
  status: fc.constantFrom(...REPORTED_VM_STATUSES),
  progress: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
  exitReason: fc.option(fc.constantFrom(...Object.values(ExitReason)), { nil: null }),
  peerHostId: fc.option(host, { nil: null }),
});

/** A batch of up to three reports from any host, sometimes with a sequence and a boot. */
export const reportStep: fc.Arbitrary<ReportStep> = fc.record({
  kind: fc.constant('report' as const),
  hostId: host,
  items: fc.uniqueArray(reportItem, { maxLength: 3, selector: (i) => i.vmId }),
  full: fc.boolean(),
  sequence: sometimes(fc.integer({ min: 0, max: 6 })),
  bootId: sometimes(fc.constantFrom('boot-1', 'boot-2')),
});

/** Drops what the input checks would refuse anyway, so most batches are accepted. */
export function normalise(hostId: string, item: VmReportInput): VmReportInput {
  const migrating = item.status === ReportedVmStatus.MIGRATING_FROM || item.status === ReportedVmStatus.MIGRATING_TO;
  return {
    vmId: item.vmId,
    status: item.status,
    progress: item.status === ReportedVmStatus.MIGRATING_FROM ? item.progress : null,
    exitReason: item.status === ReportedVmStatus.DOWN ? item.exitReason : null,
    peerHostId: migrating && item.peerHostId !== hostId ? item.peerHostId : null,
  };
}
