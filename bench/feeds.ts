/**
 * Benchmark 6 — what a change costs the subscriptions that it does not concern, in process: 1,000
 * host agents subscribed to their `hostCommands` and 1,000 monitors each following one VM
 * (`transitions(vmId)`), while reports change VMs none of them follows and no order is issued.
 * Baseline, same run: the same reports, the same hosts, nobody subscribed. The difference, per change, is what
 * the feeds spend on listeners that have nothing to deliver; with the streams indexed by host and
 * VM it should be next to nothing, whatever the number of subscribers.
 *
 *   npm run bench -- feeds      (or: npx tsx bench/feeds.ts)
 */
import { TableFeeds } from '../src/server/subscriptions/feeds.js';
import { machine, printTable, type Row } from './report.js';
import { benchTable } from './support/table.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 1_000);
const MONITORS = Number(process.env.BENCH_MONITORS ?? 1_000);
const CHANGES = 20_000;
const ROUNDS = 5;

/** µs per change: a VM of host-x toggled UP/DOWN by its host's report (one transition each). */
function changes(subscribed: boolean): number {
  let now = Date.now();
  const table = benchTable(() => now);
  table.reportVmStatuses({ hostId: 'host-x', vms: [{ vmId: 'vm-x', status: 'UP' }], full: true });
  for (let a = 0; a < AGENTS; a++) table.registerHost({ hostId: `agent-host-${a}` });
  const streams: { return?: () => unknown }[] = [];
  if (subscribed) {
    const feeds = new TableFeeds(table, { bufferItems: 10_000 });
    for (let a = 0; a < AGENTS; a++) streams.push(feeds.hostCommands(`agent-host-${a}`));
    for (let m = 0; m < MONITORS; m++) streams.push(feeds.transitions({ vmId: `watched-vm-${m}` }));
  }
  let best = Number.POSITIVE_INFINITY;
  let toggle = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < CHANGES; i++) {
      now += 1;
      table.reportVmStatuses({ hostId: 'host-x', vms: [{ vmId: 'vm-x', status: toggle++ % 2 === 0 ? 'DOWN' : 'UP' }] });
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e3 / CHANGES);
  }
  for (const stream of streams) void stream.return?.();
  return best;
}

export function run(): Row[] {
  const alone = changes(false);
  const subscribed = changes(true);
  return [
    {
      name: `a change that concerns no subscriber, with ${AGENTS.toLocaleString('en')} hostCommands and ${MONITORS.toLocaleString('en')} transitions(vmId) subscriptions open`,
      value: subscribed,
      unit: 'µs',
      baseline: alone,
      baselineName: 'no subscription',
      lowerIsBetter: true,
    },
    { name: '… the part spent on subscriptions', value: Math.max(0, subscribed - alone), unit: 'µs per change' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('changes and the subscriptions they do not concern', run());
}
