/**
 * Benchmark 4 — memory: heap and RSS per known VM with 1,000,000 VMs known and 100,000 of them in
 * the migration table. Baseline, same run: the same VM ids and statuses in a plain Map.
 * Run with --expose-gc for exact heap figures (`npm run bench -- memory` does).
 * Target: ≤ 400 B of heap per known VM (issue 14: unchanged or better than the 374 B measured before).
 *
 *   node --expose-gc --import tsx bench/memory.ts
 */
import type { VmReportInput } from '../src/domain/model.js';
import { machine, printTable, type Row } from './report.js';
import { benchTable } from './support/table.js';

const HOSTS = 5_000;
const VMS_PER_HOST = 200;
const MIGRATING_PER_HOST = 20; // 100,000 in the table

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

export function run(): Row[] {
  const total = HOSTS * VMS_PER_HOST;
  const base0 = heap();
  const plain = new Map<string, { status: string; hostId: string }>();
  for (let h = 0; h < HOSTS; h++) for (let v = 0; v < VMS_PER_HOST; v++) plain.set(`vm-${h}-${v}`, { status: 'UP', hostId: `host-${h}` });
  const plainBytes = heap() - base0;
  plain.clear();

  const rss0 = process.memoryUsage().rss;
  const before = heap();
  let now = Date.now();
  const table = benchTable(() => now);
  for (let h = 0; h < HOSTS; h++) {
    const vms: VmReportInput[] = [];
    for (let v = 0; v < VMS_PER_HOST; v++) vms.push({ vmId: `vm-${h}-${v}`, status: 'UP' });
    table.reportVmStatuses({ hostId: `host-${h}`, vms, full: true });
  }
  now += 1_000;
  for (let h = 0; h < HOSTS; h++) {
    const vms: VmReportInput[] = [];
    for (let v = 0; v < MIGRATING_PER_HOST; v++) vms.push({ vmId: `vm-${h}-${v}`, status: 'MIGRATING_FROM', progress: 5, peerHostId: `host-${(h + 1) % HOSTS}` });
    table.reportVmStatuses({ hostId: `host-${h}`, vms });
  }
  const inTable = [...table.entries()].length;
  if (table.vmCount() !== total || inTable !== HOSTS * MIGRATING_PER_HOST) throw new Error(`expected ${total} VMs and ${HOSTS * MIGRATING_PER_HOST} entries, got ${table.vmCount()} and ${inTable}`);
  const tableBytes = heap() - before;
  const rssBytes = process.memoryUsage().rss - rss0;
  return [
    {
      name: `heap per known VM (${total.toLocaleString('en')} VMs, ${inTable.toLocaleString('en')} migrating, full history)`,
      value: tableBytes / total,
      unit: 'B',
      baseline: plainBytes / total,
      baselineName: 'plain Map',
      lowerIsBetter: true,
      target: { text: '≤ 400 B', met: tableBytes / total <= 400 },
    },
    { name: 'RSS growth per known VM', value: rssBytes / total, unit: 'B', lowerIsBetter: true },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('memory', run());
}
