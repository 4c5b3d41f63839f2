/** `npm start`: reads the settings, serves Transit, and shuts down cleanly on SIGTERM or SIGINT. */
import { readConfig } from './config.js';
import { buildApp } from './server/app.js';

const config = readConfig();
const app = buildApp({ config });
const { url } = await app.start();
console.log(`Transit ${app.table.epoch} serving ${url} (HTTP, SSE and graphql-ws; GraphiQL in a browser); health at ${new URL('/health', url).href}`);

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
