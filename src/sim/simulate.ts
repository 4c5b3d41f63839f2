/**
 * `npm run simulate -- [options]`: runs a simulated fleet against a Transit that is already running
 * (`npm start`), until Ctrl-C; then stops the faults, lets the table converge and reports whether
 * every verdict agreed with the simulated truth.
 *
 * - Ctrl-C: the first SIGINT starts the verdict; the copy npm forwards right after it (a terminal
 *   sends SIGINT to the whole process group, npm passes it on) is not a second Ctrl-C. A Ctrl-C more
 *   than a second later quits without the verdict. npm runs this file with `exec node --import tsx`,
 *   so no shell or wrapper process sits between npm and this handler, and npm exits with its code.
 * - Ids: every host and VM id starts with a run prefix (random unless `--run-prefix`), so two runs
 *   against the same Transit never mistake each other's VMs for their own.
 * - Credentials: `--token` for the automation, fencing agent and observer; host agents need a
 *   `host:<id>` credential each, which `--make-credentials DIR` writes (with the server's file).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentialLine, newToken, Role } from '../server/security/credentials.js';
import { FLEET_HELP, parseFleetArgs } from './cli-options.js';
import { Fleet, RefusedError } from './fleet.js';
import { StatusLine } from './status-line.js';

const USAGE = `Usage: npm run simulate -- [--url URL] [options]

Drives a running Transit with simulated host agents, migrations and faults; Ctrl-C prints the verdict.
  --url URL                 Transit's GraphQL endpoint [http://127.0.0.1:4000/graphql]
  --run-prefix P            prefix of this run's host and VM ids [random, e.g. r3f9a1-]
  --token TOKEN             bearer token of the automation, fencing agent and observer
                            (a credential with the roles operator,fencer,viewer)
  --tokens FILE             the tokens file --make-credentials wrote (run prefix, tokens of
                            the simulator and of every host agent)
  --make-credentials DIR    write DIR/credentials (lines for TRANSIT_CREDENTIALS_FILE) and
                            DIR/tokens.json for this fleet, then exit
${FLEET_HELP}`;

/** What --make-credentials writes and --tokens reads. */
interface TokensFile {
  readonly runPrefix: string;
  readonly token: string;
  readonly hosts: Record<string, string>;
}

/** A second SIGINT this soon after the first is npm forwarding the same Ctrl-C, not a new one. */
const SAME_CTRL_C_MS = 1_000;

async function main(): Promise<number> {
  const { fleet: options, values } = parseFleetArgs(process.argv.slice(2), {
    url: { type: 'string' },
    'run-prefix': { type: 'string' },
    token: { type: 'string' },
    tokens: { type: 'string' },
    'make-credentials': { type: 'string' },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const url = typeof values.url === 'string' ? values.url : 'http://127.0.0.1:4000/graphql';
  const tokens = typeof values.tokens === 'string' ? (JSON.parse(readFileSync(values.tokens, 'utf8')) as TokensFile) : null;
  const runPrefix = typeof values['run-prefix'] === 'string' ? values['run-prefix'] : (tokens?.runPrefix ?? `r${randomBytes(3).toString('hex')}-`);
  const token = typeof values.token === 'string' ? values.token : tokens?.token;

  if (typeof values['make-credentials'] === 'string') {
    const dir = values['make-credentials'];
    const hostIds = Array.from({ length: options.hosts }, (_, i) => `${runPrefix}host-${String(i + 1).padStart(3, '0')}`);
    const file: TokensFile = { runPrefix, token: newToken(), hosts: Object.fromEntries(hostIds.map((id) => [id, newToken()])) };
    const lines = [
      `# npm run simulate -- --make-credentials: the simulator and its ${hostIds.length} host agents (run prefix ${runPrefix})`,
      credentialLine({ name: `${runPrefix}simulator`, roles: [Role.OPERATOR, Role.FENCER, Role.VIEWER] }, file.token),
      ...hostIds.map((id) => credentialLine({ name: id, roles: [Role.HOST], hostId: id }, file.hosts[id] as string)),
    ];
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'credentials'), `${lines.join('\n')}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'tokens.json'), `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    console.log(`Wrote ${join(dir, 'credentials')} and ${join(dir, 'tokens.json')} for ${hostIds.length} hosts (run prefix ${runPrefix}).`);
    console.log(`Add the first to Transit's credentials file (TRANSIT_CREDENTIALS_FILE; restart it), then:\n  npm run simulate -- --url ${url} --hosts ${options.hosts} --tokens ${join(dir, 'tokens.json')}`);
    return 0;
  }

  let refused: string | null = null;
  let wake: () => void = () => undefined;
  const onError = (error: unknown) => {
    const closedWith4403 = (error as { code?: unknown } | null)?.code === 4403;
    const text = closedWith4403 ? "a host agent's WebSocket was closed with 4403 (token missing or refused)" : error instanceof Error ? error.message : JSON.stringify(error);
    if (refused === null && (closedWith4403 || error instanceof RefusedError || /\b(401|403)\b|UNAUTHENTICATED|FORBIDDEN/.test(text))) {
      refused = text;
      wake();
    }
  };
  const fleet = new Fleet({ ...options, url, idPrefix: runPrefix, token, agentTokens: tokens?.hosts, onError });
  try {
    await fleet.start();
  } catch (error) {
    await fleet.stop();
    if (error instanceof RefusedError) {
      console.error(refusalHelp(error.message, token));
      return 2;
    }
    if (error instanceof TypeError) {
      console.error(`Transit did not answer at ${url} (${(error.cause as Error | undefined)?.message ?? error.message}): is it running (npm start)? Pass its address with --url.`);
      return 2;
    }
    throw error;
  }
  const status = new StatusLine(fleet);
  status.start();
  console.log(`Simulating ${options.hosts} hosts and ${options.vms} VMs (ids ${runPrefix}…) against ${url} (seed ${options.seed}). Ctrl-C to stop.`);

  // Until Ctrl-C, SIGTERM, or a refusal.
  const stop = await new Promise<'signal' | 'refused'>((resolve) => {
    wake = () => resolve('refused');
    let firstAt = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      const now = Date.now();
      if (firstAt === 0) {
        firstAt = now;
        resolve('signal');
      } else if (now - firstAt > SAME_CTRL_C_MS) {
        console.log(`\n${signal} again: quitting without the verdict.`);
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  status.stop();
  if (stop === 'refused') {
    await fleet.stop();
    console.error(refusalHelp(refused ?? 'refused', token));
    return 2;
  }
  console.log('\nStopping faults and letting the table converge (Ctrl-C again to quit without the verdict)...');
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
  return problems.length === 0 ? 0 : 1;
}

function refusalHelp(reason: string, token: string | undefined): string {
  const hint =
    token === undefined
      ? 'This Transit has a credentials file: pass --token (a credential with the roles operator,fencer,viewer), or write one for this fleet with --make-credentials DIR and run with --tokens DIR/tokens.json.'
      : 'Check the token: it needs the roles operator,fencer,viewer, and each host agent a host:<id> credential (--make-credentials DIR writes them all).';
  return `The simulator was refused: ${reason}\n${hint}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
