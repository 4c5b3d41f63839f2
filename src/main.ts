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
  app = buildApp({ config });
} catch (error) {
  refuseToStart(error);
}
const { url } = await app.start().catch((error: unknown) => refuseToStart(error, config));
console.log(`Transit ${app.table.epoch} serving ${url} (HTTP, SSE and graphql-ws; GraphiQL in a browser); dashboard at ${new URL('/', url).href}; health at ${new URL('/health', url).href}`);

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
