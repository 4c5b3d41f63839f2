/**
 * Helpers for the security tests: a credentials file in a temp directory with one credential per
 * role, a server that reads it, raw HTTP requests with a bearer token (or a hostile body), and
 * graphql-ws clients that authenticate in `connection_init`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FormattedExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll } from 'vitest';
import WebSocket from 'ws';
import type { Config } from '../../src/config.js';
import { credentialLine, newToken, Role, type CredentialSpec } from '../../src/server/security/credentials.js';
import { perTest } from './per-test.js';
import { startServer, type TestServer } from './server.js';
import type { WsClient } from './ws.js';

/** The hosts the credentials speak for. */
export const HOST_A = 'host-a';
export const HOST_B = 'host-b';

export const CREDENTIALS = {
  viewer: { name: 'grafana', roles: [Role.VIEWER] },
  operator: { name: 'ops-alice', roles: [Role.OPERATOR] },
  hostA: { name: 'agent-a', roles: [Role.HOST], hostId: HOST_A },
  hostB: { name: 'agent-b', roles: [Role.HOST], hostId: HOST_B },
  fencer: { name: 'fence-agent', roles: [Role.FENCER] },
} as const satisfies Record<string, CredentialSpec>;
export type Who = keyof typeof CREDENTIALS;
export const EVERYONE = Object.keys(CREDENTIALS) as Who[];

export interface CredentialsFile {
  readonly path: string;
  readonly tokens: Readonly<Record<Who, string>>;
}

const directories: string[] = [];
afterAll(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A credentials file with one fresh credential per entry of `CREDENTIALS`, in a temp directory. */
export function writeCredentials(): CredentialsFile {
  const dir = mkdtempSync(join(tmpdir(), 'transit-credentials-'));
  directories.push(dir);
  const tokens = Object.fromEntries(EVERYONE.map((who) => [who, newToken()])) as Record<Who, string>;
  const lines = EVERYONE.map((who) => credentialLine(CREDENTIALS[who], tokens[who]));
  const path = join(dir, 'credentials');
  writeFileSync(path, `# written by test/utils/security.ts\n${lines.join('\n')}\n`);
  return { path, tokens };
}

export interface SecureServer extends TestServer {
  readonly tokens: Readonly<Record<Who, string>>;
  /** POSTs a query with `who`'s token (null: no token). */
  as(who: Who | null, query: string, variables?: Record<string, unknown>): Promise<HttpAnswer>;
}

export async function startSecureServer(overrides: Partial<Config> = {}): Promise<SecureServer> {
  const { path, tokens } = writeCredentials();
  const server = await startServer({ credentialsFile: path, ...overrides });
  return Object.assign(server, {
    tokens,
    as: (who: Who | null, query: string, variables?: Record<string, unknown>) =>
      post(server.url, { body: JSON.stringify({ query, variables }), token: who === null ? null : tokens[who] }),
  });
}

/** A fresh server with credentials for each test of the enclosing suite. */
export function securePerTest(overrides: Partial<Config> = {}): () => SecureServer {
  return perTest(() => startSecureServer(overrides));
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The GraphQL result, when the body was one. */
  readonly result: FormattedExecutionResult<Record<string, unknown>> | null;
  readonly text: string;
}

export interface PostOptions {
  readonly body: string;
  readonly token?: string | null;
  readonly contentType?: string;
  readonly accept?: string;
  readonly headers?: Record<string, string>;
}

export async function post(url: string, { body, token = null, contentType = 'application/json', accept = 'application/graphql-response+json, application/json', headers = {} }: PostOptions): Promise<HttpAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, accept, ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...headers },
    body,
  });
  const text = await response.text();
  let result: HttpAnswer['result'];
  try {
    result = JSON.parse(text) as HttpAnswer['result'];
  } catch {
    result = null;
  }
  return { status: response.status, headers: response.headers, result, text };
}

/** `extensions.code` of each error of an answer. */
export const codesOf = (answer: HttpAnswer): unknown[] => (answer.result?.errors ?? []).map((e) => e.extensions?.code);

/** A graphql-ws client that sends `connectionParams` (by default `authorization: Bearer <token>`). */
export function wsClientAs(url: string, token: string | null, connectionParams?: Record<string, unknown>): WsClient & { closeCode(): Promise<number> } {
  const sockets: WebSocket[] = [];
  let resolveClose: (code: number) => void = () => undefined;
  const closeCode = new Promise<number>((resolve) => (resolveClose = resolve));
  class TrackedSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  const client = createClient({
    url,
    webSocketImpl: TrackedSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: connectionParams ?? (token === null ? {} : { authorization: `Bearer ${token}` }),
    on: { closed: (event) => resolveClose((event as { code: number }).code) },
  });
  return {
    client,
    socket() {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('no socket opened yet');
      return socket;
    },
    dispose: async () => client.dispose(),
    closeCode: () => closeCode,
  };
}

/** A bare socket speaking graphql-transport-ws, for tests of what a misbehaving client sends. */
export function rawSocket(url: string, headers: Record<string, string> = {}): WebSocket {
  return new WebSocket(url, 'graphql-transport-ws', { headers });
}

/** Resolves with the close code, or the HTTP status of a refused upgrade (as a negative number). */
export function socketEnd(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    socket.once('close', (code) => resolve(code));
    socket.once('unexpected-response', (_request, response) => resolve(-(response.statusCode ?? 0)));
    socket.once('error', () => undefined);
  });
}

/** A document of `n` fragments, each spreading the next twice (issue 12, item 1): about 40 bytes a fragment. */
export const fragmentChain = (n: number): string =>
  `{ engine { ...F0 } } ${Array.from({ length: n }, (_, i) => `fragment F${i} on Engine { ${i === n - 1 ? 'cursor' : `...F${i + 1} ...F${i + 1}`} }`).join(' ')}`;

/** Fifteen aliased pages of a thousand VMs: about 105,000 values, above the default cost limit whatever the fleet. */
export const pagedCostBomb = `{ ${Array.from({ length: 15 }, (_, i) => `p${i}: vms(first: 1000) { edges { cursor node { id status hostId location } } }`).join(' ')} }`;
