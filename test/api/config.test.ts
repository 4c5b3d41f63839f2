import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, readConfig } from '../../src/config.js';

describe('settings from the environment', () => {
  it('should default to what serves one machine (DESIGN.md §7)', () => {
    expect(readConfig({})).toEqual({
      host: '127.0.0.1',
      port: 4000,
      hostTimeoutMs: 60_000,
      migrationStartTimeoutMs: 30_000,
      maxAttempts: 3,
      historyLimit: 100_000,
      tickIntervalMs: 1_000,
      subscriberBufferItems: 10_000,
    });
    expect(readConfig({})).toEqual(DEFAULT_CONFIG);
  });

  it('should read each variable, and treat an empty one as not set', () => {
    const config = readConfig({
      HOST: '0.0.0.0',
      PORT: '8080',
      TRANSIT_HOST_TIMEOUT_MS: '5000',
      TRANSIT_MIGRATION_START_TIMEOUT_MS: '7000',
      TRANSIT_MAX_ATTEMPTS: '5',
      TRANSIT_HISTORY_LIMIT: '500',
      TRANSIT_TICK_INTERVAL_MS: '250',
      TRANSIT_SUBSCRIBER_BUFFER_ITEMS: '100',
      TRANSIT_UNRELATED: 'ignored',
    });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 8080,
      hostTimeoutMs: 5_000,
      migrationStartTimeoutMs: 7_000,
      maxAttempts: 5,
      historyLimit: 500,
      tickIntervalMs: 250,
      subscriberBufferItems: 100,
    });
    expect(readConfig({ PORT: '' }).port).toBe(4000);
  });

  it('should be frozen', () => {
    expect(Object.isFrozen(readConfig({}))).toBe(true);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['PORT', { PORT: '70000' }],
    ['TRANSIT_HOST_TIMEOUT_MS', { TRANSIT_HOST_TIMEOUT_MS: '0' }],
    ['TRANSIT_MAX_ATTEMPTS', { TRANSIT_MAX_ATTEMPTS: '1.5' }],
    ['TRANSIT_SUBSCRIBER_BUFFER_ITEMS', { TRANSIT_HISTORY_LIMIT: '100', TRANSIT_SUBSCRIBER_BUFFER_ITEMS: '100' }],
  ])('should refuse a bad %s, naming it', (name, env) => {
    expect(() => readConfig(env)).toThrow(name);
  });
});
