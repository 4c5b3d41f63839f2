import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // One graphql instance for everything: vite would otherwise give the code it transforms
    // graphql's ESM build while Node gives Pothos and yoga its CommonJS one ("Cannot use
    // GraphQLObjectType from another module or realm").
    alias: [{ find: /^graphql$/, replacement: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Server tests bind real ports; two cores are shared by forks.
    pool: 'forks',
    // A worker keeps its modules from one test file to the next: every file imports the whole
    // server through tsx, and importing it again per file cost 84 s of the suite's 319 s on this
    // two-core machine (205 s without). Sound here because no test file keeps state in a module:
    // each starts its own servers, tables and clients, and the few spies restore themselves.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // CI also keeps a machine-readable summary, from which .ci/run prints its closing line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-results.json' }]] : ['default'],
  },
});
