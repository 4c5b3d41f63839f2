/** `npm start`: reads the settings, serves Transit, and shuts down cleanly on SIGTERM or SIGINT. */
import { readConfig } from './config.js';
import { buildApp } from './server/http/app.js';

/** A setting, the credentials file or the address refused: say why in one line, and exit non-zero. */
function refuseToStart(error: unknown): never {
  console.error(`Transit cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

let app: ReturnType<typeof buildApp>;
try {
  app = buildApp({ config: readConfig() });
} catch (error) {
  refuseToStart(error);
}
const { url } = await app.start().catch(refuseToStart);
const run = app.cluster === null ? `Transit ${app.table.epoch}` : `Transit (clustered mode, ${app.cluster.id})`;
console.log(`${run} serving ${url} (HTTP, SSE and graphql-ws; GraphiQL in a browser); health at ${new URL('/health', url).href}`);

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
process.on('SIGTERM', shutDown);
process.on('SIGINT', shutDown);
