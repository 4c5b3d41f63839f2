/**
 * `npm run demo -- [options]`: Transit with a simulated fleet attached, in one command. Serves the
 * API (settings from the environment, as `npm start`), runs host agents, automation, a fencing
 * agent and faults against it, prints where GraphiQL is and a subscription to paste, and shows a
 * live one-line summary. Ctrl-C stops it.
 */
import { readConfig } from '../config.js';
import { buildApp, type App } from '../server/http/app.js';
import { startFailure } from '../server/http/start-failure.js';
import { OPEN_MODE_WARNING } from '../server/security/security.js';
import { FLEET_HELP, parseFleetArgs } from './cli-options.js';
import { Fleet } from './fleet.js';
import { StatusLine } from './status-line.js';

const USAGE = `Usage: npm run demo -- [options]

Starts Transit (HOST, PORT and TRANSIT_* settings from the environment, as npm start) with a
simulated fleet attached: host agents, automation starting migrations, faults, a fencing agent,
and an operator who evacuates hosts for maintenance and brings them back.
  --restart-every S         restart the engine every S seconds (0: never) [0]
${FLEET_HELP}`;

const SUBSCRIPTION = `subscription Live {
  transitions {
    cursor at cause vmId hostId
    from { status hostId }
    to { status hostId location }
    migration { id state priority waitingReason attempt progress stalled abortReason blockedBy { code hostId } source { id } destination { id } }
  }
}`;

async function main(): Promise<void> {
  const { fleet: options, values } = parseFleetArgs(process.argv.slice(2), { 'restart-every': { type: 'string' } });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const restartEverySeconds = Number(values['restart-every'] ?? 0);
  if (!Number.isFinite(restartEverySeconds) || restartEverySeconds < 0) throw new Error('--restart-every must be a number of seconds ≥ 0');

  const config = readConfig();
  // Logging at `error`: the dashboard's address comes first, then the open-mode warning, printed here.
  let app: App = buildApp({ config, logging: 'error' });
  const { url, port } = await app.start().catch((error: unknown) => {
    throw new Error(`Transit cannot start: ${startFailure(error, config)}`);
  });
  console.log(`Dashboard: ${new URL('/', url).href}`);
  if (config.credentialsFile === null) console.warn(OPEN_MODE_WARNING);
  const pinned = { ...config, port }; // a restarted engine comes back on the same port
  // The checker holds the engine to the limits it really runs with.
  const limits = { maxOutgoingPerHost: config.maxOutgoingMigrationsPerHost, maxIncomingPerHost: config.maxIncomingMigrationsPerHost, maxPerCluster: config.maxMigrationsPerCluster };
  const fleet = new Fleet({ ...options, url, limits });
  await Promise.all([fleet.start(), app.prepareDashboard()]);

  console.log(
    `Transit is serving ${url} with a simulated fleet: ${options.hosts} hosts in ${options.clusters} clusters, ${options.vms} VMs, seed ${options.seed}; ` +
      `an operator evacuates ${options.evacuationsPerMinute} host(s) a minute for maintenance.`,
  );
  console.log(`Open the dashboard at ${new URL('/', url).href}, or GraphiQL at ${url} and paste this subscription to watch every transition live:\n\n${SUBSCRIPTION}\n`);
  console.log('The summary counts migrations (failed: migrations that ended FAILED; attempts failed: every failed attempt, rerun or not).');
  const status = new StatusLine(fleet);
  status.start();

  let restarting = false;
  const restarts =
    restartEverySeconds > 0
      ? setInterval(() => {
          if (restarting) return;
          restarting = true;
          void (async () => {
            await app.stop();
            app = buildApp({ config: pinned, logging: 'error' });
            await app.start();
            restarting = false;
          })();
        }, restartEverySeconds * 1000)
      : null;

  await new Promise<void>((resolve) => {
    // The SIGINT npm forwards right after the terminal's own is the same Ctrl-C, not a second one.
    let firstAt = 0;
    const onSignal = () => {
      if (firstAt === 0) {
        firstAt = Date.now();
        resolve();
      } else if (Date.now() - firstAt > 1_000) {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  if (restarts !== null) clearInterval(restarts);
  status.stop();
  console.log('Stopping the fleet and the engine...');
  await fleet.stop();
  await app.stop();
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
