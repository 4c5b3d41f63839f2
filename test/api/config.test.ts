import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, readConfig } from '../../src/config.js';

describe('settings from the environment', () => {
  it('should default to what serves one machine (docs/contract.md §7)', () => {
    expect(readConfig({})).toEqual({
      host: '127.0.0.1',
      port: 4000,
      hostTimeoutMs: 60_000,
      migrationStartTimeoutMs: 30_000,
      maxAttempts: 3,
      historyLimit: 100_000,
      tickIntervalMs: 1_000,
      subscriberBufferItems: 10_000,
      credentialsFile: null,
      maxDepth: 10,
      maxAliases: 15,
      maxTokens: 2_000,
      maxDirectives: 50,
      maxCost: 100_000,
      maxBodyBytes: 4_194_304,
      wsMaxPayloadBytes: 4_194_304,
      wsInitTimeoutMs: 3_000,
      maxSubscriptionsPerConnection: 100,
      mutationsPerSecond: 100,
      mutationBurst: 200,
      introspection: true,
      maxReportBatch: 2_000,
      corsOrigins: [],
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxConnections: 10_000,
      maxWsConnectionsPerCredential: 50,
      maxSubscriptionsPerCredential: 200,
      maxSubscriptions: 5_000,
      orderGraceMs: 300_000,
      maxVmsPerHost: 2_000,
      maxHosts: 10_000,
      vmRetentionMs: 86_400_000,
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
      TRANSIT_CREDENTIALS_FILE: '/etc/transit/credentials',
      TRANSIT_MAX_DEPTH: '8',
      TRANSIT_MAX_ALIASES: '5',
      TRANSIT_MAX_TOKENS: '500',
      TRANSIT_MAX_DIRECTIVES: '10',
      TRANSIT_MAX_COST: '5000',
      TRANSIT_MAX_BODY_BYTES: '65536',
      TRANSIT_WS_MAX_PAYLOAD_BYTES: '32768',
      TRANSIT_WS_INIT_TIMEOUT_MS: '1000',
      TRANSIT_MAX_SUBSCRIPTIONS_PER_CONNECTION: '10',
      TRANSIT_MUTATIONS_PER_SECOND: '20',
      TRANSIT_MUTATION_BURST: '40',
      TRANSIT_INTROSPECTION: 'off',
      TRANSIT_MAX_REPORT_BATCH: '500',
      TRANSIT_CORS_ORIGINS: 'https://ops.example',
      TRANSIT_HEADERS_TIMEOUT_MS: '2000',
      TRANSIT_REQUEST_TIMEOUT_MS: '4000',
      TRANSIT_MAX_CONNECTIONS: '900',
      TRANSIT_MAX_WS_CONNECTIONS_PER_CREDENTIAL: '3',
      TRANSIT_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: '30',
      TRANSIT_MAX_SUBSCRIPTIONS: '300',
      TRANSIT_ORDER_GRACE_MS: '60000',
      TRANSIT_MAX_VMS_PER_HOST: '500',
      TRANSIT_MAX_HOSTS: '50',
      TRANSIT_VM_RETENTION_MS: '3600000',
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
      credentialsFile: '/etc/transit/credentials',
      maxDepth: 8,
      maxAliases: 5,
      maxTokens: 500,
      maxDirectives: 10,
      maxCost: 5_000,
      maxBodyBytes: 65_536,
      wsMaxPayloadBytes: 32_768,
      wsInitTimeoutMs: 1_000,
      maxSubscriptionsPerConnection: 10,
      mutationsPerSecond: 20,
      mutationBurst: 40,
      introspection: false,
      maxReportBatch: 500,
      corsOrigins: ['https://ops.example'],
      headersTimeoutMs: 2_000,
      requestTimeoutMs: 4_000,
      maxConnections: 900,
      maxWsConnectionsPerCredential: 3,
      maxSubscriptionsPerCredential: 30,
      maxSubscriptions: 300,
      orderGraceMs: 60_000,
      maxVmsPerHost: 500,
      maxHosts: 50,
      vmRetentionMs: 3_600_000,
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
    ['TRANSIT_INTROSPECTION', { TRANSIT_INTROSPECTION: 'maybe' }],
    ['TRANSIT_MAX_DEPTH', { TRANSIT_MAX_DEPTH: '0' }],
    ['TRANSIT_MUTATIONS_PER_SECOND', { TRANSIT_MUTATIONS_PER_SECOND: '-1' }],
    ['TRANSIT_HEADERS_TIMEOUT_MS', { TRANSIT_HEADERS_TIMEOUT_MS: '5000', TRANSIT_REQUEST_TIMEOUT_MS: '1000' }],
    ['TRANSIT_MAX_CONNECTIONS', { TRANSIT_MAX_CONNECTIONS: '0' }],
  ])('should refuse a bad %s, naming it', (name, env) => {
    expect(() => readConfig(env)).toThrow(name);
  });
});
