/** `npm start`: reads the settings, serves Transit, and shuts down cleanly on SIGTERM or SIGINT. */
import { readConfig, type Config } from './config.js';
import { buildApp } from './server/http/app.js';
import { startFailure } from './server/http/start-failure.js';

/** A setting, the credentials file or the address refused: say why in one line, and exit non-zero. */
function refuseToStart(error: unknown, config?: Config): never {
  console.error(`Transit cannot start: ${startFailure(error, config)}`);
  process.exit(1);
}

let app: ReturnType<typeof buildApp>;
let config: Config;
try {
  config = readConfig();
  app = buildApp({ config, onEngineFailure: () => failStop() });
} catch (error) {
  refuseToStart(error);
}
const { url } = await app.start().catch((error: unknown) => refuseToStart(error, config));
const run = app.cluster === null ? `Transit ${app.table.epoch}` : `Transit (clustered mode, ${app.cluster.id})`;
console.log(`${run} serving ${url} (HTTP, SSE and graphql-ws; GraphiQL in a browser); dashboard at ${new URL('/', url).href}; health at ${new URL('/health', url).href}`);

let shuttingDown = false;
const shutDown = (signal: NodeJS.Signals) => {
  if (shuttingDown) return;
  shuttingDown = true;
  console.log(`${signal}: stopping`);
  app.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('shutdown failed', error);
      process.exit(1);
    },
  );
};
/**
 * The table failed part-way through a command (a bug): stop serving and exit 70 (EX_SOFTWARE) so the
 * supervisor restarts Transit and the table is rebuilt from the hosts' reports (docs/decisions.md §3).
 */
function failStop(): void {
  if (shuttingDown) return;
  shuttingDown = true;
  console.error('Transit stops: the migration table failed part-way through a command; restart it to rebuild from reports');
  void app.stop().finally(() => process.exit(70));
}
process.on('SIGTERM', shutDown);
process.on('SIGINT', shutDown);
