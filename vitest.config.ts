import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Server tests bind real ports; two cores are shared by forks.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
