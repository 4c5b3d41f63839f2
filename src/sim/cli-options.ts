/** Command-line options shared by `npm run simulate` and `npm run demo`. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_FLEET, type FleetOptions } from './fleet.js';

const d = DEFAULT_FLEET;

export const FLEET_HELP = `Fleet options (defaults in brackets):
  --hosts N                 simulated hosts [${d.hosts}]
  --clusters N              clusters the hosts are spread over [${d.clusters}]
  --vms N                   VMs spread over the hosts [${d.vms}]
  --rate R                  migrations started per second [${d.migrationsPerSecond}]
  --max-migrations N        stop starting migrations after N (0: never) [${d.maxMigrations}]
  --seed N                  seed of every random choice, for reproducible runs [${d.seed}]
  --progress R              pre-copy progress per second, in percent [${d.progressPerSecond}]
  --full-report-ms MS       host agents' full report cadence [${d.fullReportIntervalMs}]
  --fail P                  chance a migration fails at hand-over [${d.faults.migrationFailure}]
  --cancel P                chance a started migration is cancelled [${d.faults.cancel}]
  --crashes R               VM crashes per minute [${d.faults.vmCrashesPerMinute}]
  --hangs R                 hosts that stop answering per minute [${d.faults.hostHangsPerMinute}]
  --fence-fail P            chance a fence fails [${d.faults.fenceFailure}]
  --duplicate P             chance a report batch is delivered twice [${d.faults.duplicateReport}]
  --reorder P               chance a report batch is delivered after the next [${d.faults.reorderReport}]
  --non-converging P        chance a migration never converges (stalls or crawls; only a deadline ends it) [${d.faults.nonConverging}]
  --max-outgoing N          the engine's TRANSIT_MAX_OUTGOING_MIGRATIONS_PER_HOST, for the checker [${d.limits.maxOutgoingPerHost}]
  --max-incoming N          the engine's TRANSIT_MAX_INCOMING_MIGRATIONS_PER_HOST, for the checker [${d.limits.maxIncomingPerHost}]
  --max-per-cluster N       the engine's TRANSIT_MAX_MIGRATIONS_PER_CLUSTER, for the checker [${d.limits.maxPerCluster}]
  --fence-after-ms MS       how long a hung host waits for the fencing agent [${d.fenceAfterMs}]
  --reboot-ms MS            how long a fenced host takes to boot again [${d.rebootMs}]
  --evacuations R           hosts put into maintenance by evacuation per minute (0: none) [${d.evacuationsPerMinute}]
  --maintenance-ms MS       how long an evacuated host stays in maintenance before it is put back [${d.maintenanceMs}]
  --no-faults               turn every fault off
  -h, --help                this text`;

export const FLEET_ARGS = {
  hosts: { type: 'string' },
  clusters: { type: 'string' },
  vms: { type: 'string' },
  rate: { type: 'string' },
  'max-migrations': { type: 'string' },
  seed: { type: 'string' },
  progress: { type: 'string' },
  'full-report-ms': { type: 'string' },
  fail: { type: 'string' },
  cancel: { type: 'string' },
  crashes: { type: 'string' },
  hangs: { type: 'string' },
  'fence-fail': { type: 'string' },
  duplicate: { type: 'string' },
  reorder: { type: 'string' },
  'non-converging': { type: 'string' },
  'max-outgoing': { type: 'string' },
  'max-incoming': { type: 'string' },
  'max-per-cluster': { type: 'string' },
  'fence-after-ms': { type: 'string' },
  'reboot-ms': { type: 'string' },
  evacuations: { type: 'string' },
  'maintenance-ms': { type: 'string' },
  'no-faults': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function number(values: Record<string, unknown>, name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`--${name} must be a number between ${min} and ${max}, got ${String(raw)}`);
  return value;
}

export function parseFleetArgs(argv: string[], extra: NonNullable<ParseArgsConfig['options']> = {}) {
  const { values } = parseArgs({ args: argv, options: { ...FLEET_ARGS, ...extra }, allowPositionals: false, strict: true });
  const v = values as Record<string, unknown>;
  const noFaults = v['no-faults'] === true;
  const p = (name: string, fallback: number) => (noFaults ? 0 : number(v, name, fallback, { max: 1 }));
  const r = (name: string, fallback: number) => (noFaults ? 0 : number(v, name, fallback));
  const fleet: Omit<FleetOptions, 'url'> = {
    hosts: number(v, 'hosts', d.hosts, { min: 2 }),
    clusters: number(v, 'clusters', d.clusters, { min: 1 }),
    vms: number(v, 'vms', d.vms, { min: 1 }),
    migrationsPerSecond: number(v, 'rate', d.migrationsPerSecond),
    maxMigrations: number(v, 'max-migrations', d.maxMigrations),
    seed: number(v, 'seed', d.seed),
    progressPerSecond: number(v, 'progress', d.progressPerSecond, { min: 1 }),
    fullReportIntervalMs: number(v, 'full-report-ms', d.fullReportIntervalMs, { min: 100 }),
    fenceAfterMs: number(v, 'fence-after-ms', d.fenceAfterMs),
    rebootMs: number(v, 'reboot-ms', d.rebootMs),
    // An operator's doing, not a fault: --no-faults leaves it on.
    evacuationsPerMinute: number(v, 'evacuations', d.evacuationsPerMinute),
    maintenanceMs: number(v, 'maintenance-ms', d.maintenanceMs),
    faults: {
      migrationFailure: p('fail', d.faults.migrationFailure),
      cancel: p('cancel', d.faults.cancel),
      vmCrashesPerMinute: r('crashes', d.faults.vmCrashesPerMinute),
      hostHangsPerMinute: r('hangs', d.faults.hostHangsPerMinute),
      fenceFailure: p('fence-fail', d.faults.fenceFailure),
      duplicateReport: p('duplicate', d.faults.duplicateReport),
      reorderReport: p('reorder', d.faults.reorderReport),
      nonConverging: p('non-converging', d.faults.nonConverging),
    },
    limits: {
      maxOutgoingPerHost: number(v, 'max-outgoing', d.limits.maxOutgoingPerHost),
      maxIncomingPerHost: number(v, 'max-incoming', d.limits.maxIncomingPerHost),
      maxPerCluster: number(v, 'max-per-cluster', d.limits.maxPerCluster),
    },
  };
  return { fleet, values: v };
}
