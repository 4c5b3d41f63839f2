/**
 * Benchmark 1 — core ingestion, in process: VM reports applied per second by the migration table
 * with 1,000,000 VMs known (5,000 hosts × 200 VMs), for the steady state (full reports where nothing
 * changed: with the same objects, and each report parsed from its text first, as a server meets it)
 * and for reports that cause transitions (VMs migrating, progress moving).
 * Baseline, same run: writing the same statuses into a plain Map (the least any table must do).
 * Then no-op reports side by side: a host repeating a full report of 200 VMs UP, and a source
 * repeating a full report of 200 VMs MIGRATING_FROM with their progress unchanged; target: the
 * repeated MIGRATING_FROM within 2 × the repeated UP (issue 14).
 *
 *   npm run bench -- core-ingestion      (or: npx tsx bench/core-ingestion.ts)
 */
import type { ReportVmStatusesInput, VmReportInput } from '../src/domain/model.js';
import { machine, printTable, type Row } from './report.js';
import { benchTable } from './support/table.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 5_000);
const VMS_PER_HOST = 200;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const hostId = (h: number) => `host-${h}`;
const vmId = (h: number, v: number) => `vm-${h}-${v}`;

function batches(status: (h: number, v: number) => VmReportInput): VmReportInput[][] {
  const all: VmReportInput[][] = [];
  for (let h = 0; h < HOSTS; h++) {
    const vms: VmReportInput[] = [];
    for (let v = 0; v < VMS_PER_HOST; v++) vms.push(status(h, v));
    all.push(vms);
  }
  return all;
}

function timeIt(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Repeated full reports that change nothing, in a small table: 200 VMs UP, and 200 VMs MIGRATING_FROM at an unchanged progress. */
function noOpReports(): { up: number; migratingFrom: number } {
  let now = Date.now();
  const table = benchTable(() => now);
  let seq = 0;
  const up = Array.from({ length: VMS_PER_HOST }, (_, v): VmReportInput => ({ vmId: vmId(0, v), status: 'UP' }));
  const sending = Array.from({ length: VMS_PER_HOST }, (_, v): VmReportInput => ({ vmId: vmId(1, v), status: 'MIGRATING_FROM', progress: 50, peerHostId: hostId(2) }));
  const send = (host: string, vms: VmReportInput[]) => table.reportVmStatuses({ hostId: host, vms, full: true, bootId: 'b', sequence: ++seq });
  send(hostId(0), up);
  send(hostId(2), []);
  send(hostId(1), sending); // discovered: 200 entries
  const before = table.latestSeq;
  // Rounds of each, interleaved (the machine's load moves both alike); the best round of each, in µs per VM report.
  const best = { up: Number.POSITIVE_INFINITY, migratingFrom: Number.POSITIVE_INFINITY };
  const REPEATS = 100;
  for (let r = 0; r < 5 * ROUNDS; r++) {
    for (const [kind, host, vms] of [['up', hostId(0), up], ['migratingFrom', hostId(1), sending]] as const) {
      const seconds = timeIt(() => {
        for (let i = 0; i < REPEATS; i++) {
          now += 1;
          send(host, vms);
        }
      });
      best[kind] = Math.min(best[kind], (seconds * 1e6) / (REPEATS * vms.length));
    }
  }
  if (table.latestSeq !== before) throw new Error('a repeated report changed something');
  return best;
}

export function run(): Row[] {
  let now = Date.now();
  const table = benchTable(() => now);
  const up = batches((h, v) => ({ vmId: vmId(h, v), status: 'UP' }));
  // Load: the first full report of each host makes its VMs known.
  const loadSeconds = timeIt(() => up.forEach((vms, h) => table.reportVmStatuses({ hostId: hostId(h), vms, full: true })));
  const total = HOSTS * VMS_PER_HOST;

  let seq = 1;
  const steady: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    seq++;
    now += 2_000;
    steady.push(timeIt(() => up.forEach((vms, h) => table.reportVmStatuses({ hostId: hostId(h), vms, full: true, sequence: seq, bootId: 'b' }))));
  }

  // The steady state as a server meets it: each report parsed from its text, its ids new strings
  // to look up, its VMs' records cold in a large table (the rows above reuse the same objects).
  const texts = up.map((vms, h) => JSON.stringify({ hostId: hostId(h), vms, full: true, bootId: 'b' }));
  const parsedSteady: number[] = [];
  const parseOnly: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    seq++;
    now += 2_000;
    parsedSteady.push(timeIt(() => texts.forEach((text) => table.reportVmStatuses({ ...(JSON.parse(text) as ReportVmStatusesInput), sequence: seq }))));
    parseOnly.push(timeIt(() => texts.forEach((text) => JSON.parse(text) as unknown)));
  }

  // Reports that change things: every 10th host's first VM starts migrating to the next host
  // (source MIGRATING_FROM + destination MIGRATING_TO), then progresses.
  const changing: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    seq++;
    now += 2_000;
    const reports: [string, VmReportInput[]][] = [];
    for (let h = 0; h < HOSTS; h += 10) {
      const v = r;
      reports.push([hostId(h), [{ vmId: vmId(h, v), status: 'MIGRATING_FROM', progress: 10, peerHostId: hostId(h + 1) }]]);
      reports.push([hostId(h + 1), [{ vmId: vmId(h, v), status: 'MIGRATING_TO', peerHostId: hostId(h) }]]);
      reports.push([hostId(h), [{ vmId: vmId(h, v), status: 'MIGRATING_FROM', progress: 60, peerHostId: hostId(h + 1) }]]);
      reports.push([hostId(h), [{ vmId: vmId(h, v), status: 'DOWN', exitReason: 'MIGRATION_SUCCEEDED' }]]);
      reports.push([hostId(h + 1), [{ vmId: vmId(h, v), status: 'UP' }]]);
    }
    const before = table.latestSeq;
    changing.push(timeIt(() => reports.forEach(([host, vms]) => table.reportVmStatuses({ hostId: host, vms }))));
    if (table.latestSeq === before) throw new Error('the changing reports changed nothing');
  }
  const changingReports = Math.ceil(HOSTS / 10) * 5;

  // Baseline: the same statuses written into a plain Map.
  const plain = new Map<string, string>();
  const baseline = Math.min(
    ...Array.from({ length: ROUNDS }, () => timeIt(() => up.forEach((vms) => vms.forEach((vm) => plain.set(vm.vmId, vm.status))))),
  );

  const noOp = noOpReports();
  const best = (xs: number[]) => Math.min(...xs);
  const steadyRate = total / best(steady);
  const changingRate = changingReports / best(changing);
  const baselineRate = total / baseline;
  return [
    { name: `load ${total.toLocaleString('en')} VMs (first full reports)`, value: total / loadSeconds, unit: 'VM reports/s', baseline: baselineRate, baselineName: 'Map.set' },
    { name: 'steady state: full reports, nothing changes', value: steadyRate, unit: 'VM reports/s', baseline: baselineRate, baselineName: 'Map.set' },
    {
      name: `steady state, each full report of ${VMS_PER_HOST} VMs parsed from its JSON text first, per report; vs parsing it only`,
      value: (best(parsedSteady) * 1e6) / HOSTS,
      unit: 'µs',
      baseline: (best(parseOnly) * 1e6) / HOSTS,
      baselineName: 'JSON.parse',
      lowerIsBetter: true,
    },
    { name: 'reports that cause transitions (migrations)', value: changingRate, unit: 'VM reports/s', baseline: baselineRate, baselineName: 'Map.set' },
    {
      name: `a repeated full report of ${VMS_PER_HOST} VMs MIGRATING_FROM, progress unchanged, per VM; vs the same report of ${VMS_PER_HOST} VMs UP`,
      value: noOp.migratingFrom,
      unit: 'µs',
      baseline: noOp.up,
      baselineName: 'repeated UP',
      lowerIsBetter: true,
      target: { text: '≤ 2 × repeated UP', met: noOp.migratingFrom <= 2 * noOp.up },
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('core ingestion', run());
}
