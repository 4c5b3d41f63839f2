/**
 * `npm run simulate -- [options]`: runs a simulated fleet against a Transit that is already running
 * (`npm start`), until Ctrl-C; then stops the faults, lets the table converge and reports whether
 * every verdict agreed with the simulated truth.
 */
import { FLEET_HELP, parseFleetArgs } from './cli-options.js';
import { Fleet } from './fleet.js';
import { StatusLine } from './status-line.js';

const USAGE = `Usage: npm run simulate -- [--url URL] [options]

Drives a running Transit with simulated host agents, migrations and faults.
  --url URL                 Transit's GraphQL endpoint [http://127.0.0.1:4000/graphql]
${FLEET_HELP}`;

async function main(): Promise<void> {
  const { fleet: options, values } = parseFleetArgs(process.argv.slice(2), { url: { type: 'string' } });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const url = typeof values.url === 'string' ? values.url : 'http://127.0.0.1:4000/graphql';
  const fleet = new Fleet({ ...options, url });
  await fleet.start();
  const status = new StatusLine(fleet);
  status.start();
  console.log(`Simulating ${options.hosts} hosts and ${options.vms} VMs against ${url} (seed ${options.seed}). Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  status.stop();
  console.log('\nStopping faults and letting the table converge...');
  fleet.quiesce();
  const verdict = await fleet.converge(options.fullReportIntervalMs * 10);
  await fleet.stop();
  const problems = [...verdict.contradictions, ...verdict.divergence, ...verdict.undecided, ...verdict.splitBrain, ...verdict.limitViolations, ...verdict.abortsWithoutCancel];
  console.log(
    `${fleet.checker.decided} verdicts checked: ${verdict.contradictions.length} contradict the truth; ` +
      `${verdict.divergence.length} VMs differ; ${verdict.undecided.length} migrations undecided; ${verdict.splitBrain.length} split-brain events; ` +
      `${fleet.scheduling.starts} starts checked against the limits, ${verdict.limitViolations.length} beyond them; ` +
      `${fleet.scheduling.abortedAttempts} aborts, ${verdict.abortsWithoutCancel.length} without a CANCEL order.`,
  );
  for (const line of problems.slice(0, 20)) console.log(`  ${line}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
