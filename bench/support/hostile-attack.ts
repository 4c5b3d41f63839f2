/**
 * The attacker of the hostile-client benchmark, in its own process: replays one item of issue 12
 * against a real Transit, on loopback, in a loop bounded both by a count and by `durationMs`, and
 * counts what the server answered, by code.
 *
 * - `idle`: nothing (the baseline).
 * - `fragments` (item 1): a viewer sends, 20 a second, documents of 30 fragments each spreading
 *   the next twice (about 1.4 KB; names fresh each time, so no parse or validation cache helps).
 * - `vm-flood` (item 2): one host credential fills its host, then reports, 4 batches a second
 *   (the issue's rate), batches of 2,000 new VMs (the batch limit) UP on its host or DOWN, and a
 *   fencer marks the host NON_RESPONSIVE (its VMs become UNKNOWN) and the host's next report
 *   restores them, every 2 s.
 * - `slow-connections` (item 4): connections without a token that send their headers slowly
 *   (opened again as the server closes them), and requests without a token whose body comes slowly.
 * - `subscriptions` (item 5): one viewer opens graphql-ws connections and asks for 5,000
 *   subscriptions over them (and more over SSE), while a host makes about 20 transitions a second.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { workerMain } from './processes.js';

export type Scenario = 'idle' | 'fragments' | 'vm-flood' | 'slow-connections' | 'subscriptions';

export interface AttackTokens {
  readonly viewer: string;
  readonly floodHost: string;
  readonly churnHost: string;
  readonly fencer: string;
}

export interface AttackJob {
  readonly scenario: Scenario;
  readonly url: string;
  readonly durationMs: number;
  readonly tokens: AttackTokens;
  /** The hosts the host credentials speak for: the flooding one, and the one making transitions. */
  readonly hosts: { readonly flood: string; readonly churn: string };
}

export interface AttackResult {
  /** Requests, messages or connections sent. */
  readonly sent: number;
  /** What came back, by code (`extensions.code`, `HTTP <status>`, `close <code>`, `closed unanswered`). */
  readonly answers: Record<string, number>;
  readonly notes: string[];
}

class Tally {
  readonly answers: Record<string, number> = {};
  sent = 0;
  add(code: string, n = 1): void {
    this.answers[code] = (this.answers[code] ?? 0) + n;
  }
}

const REPORT = /* GraphQL */ `mutation Flood($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }`;
const HOST_STATUS = /* GraphQL */ `mutation Fence($input: ReportHostStatusInput!) { reportHostStatus(input: $input) { errors { code } } }`;

/** POSTs a GraphQL request and counts its refusal codes (request errors and payload errors), or `ok`. */
async function graphqlRequest(pool: Pool, url: URL, token: string, query: string, variables: Record<string, unknown>, tally: Tally): Promise<void> {
  tally.sent++;
  try {
    const { statusCode, body } = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    const text = await body.text();
    const codes = [...text.matchAll(/"code":"([A-Z_]+)"/g)].map((m) => m[1] as string);
    if (codes.length === 0) tally.add(statusCode === 200 ? 'ok' : `HTTP ${statusCode}`);
    for (const code of new Set(codes)) tally.add(code);
  } catch (error) {
    tally.add(`failed: ${(error as Error).message.slice(0, 40)}`);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- item 1 --------------------------------------------------------------------------------------

function fragmentChain(n: number, prefix: string): string {
  const name = (i: number) => `${prefix}${i}`;
  const fragments = Array.from({ length: n }, (_, i) => `fragment ${name(i)} on Engine { ${i === n - 1 ? 'cursor' : `...${name(i + 1)} ...${name(i + 1)}`} }`);
  return `{ engine { ...${name(0)} } } ${fragments.join(' ')}`;
}

/**
 * Sends `send()` every `everyMs` without waiting for the answers (an open loop, like the issue's
 * reproductions: a rate, not as fast as the server answers), until `end` or `count` sends; at most
 * `maxInFlight` unanswered (a send that would exceed it is skipped and counted).
 */
async function openLoop(everyMs: number, count: number, end: number, maxInFlight: number, tally: Tally, send: (i: number) => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < count && performance.now() < end; i++) {
    if (inFlight.size >= maxInFlight) tally.add('skipped (too many unanswered)');
    else {
      const sent = send(i).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
    await sleep(everyMs);
  }
  await Promise.all(inFlight);
}

async function fragments(job: AttackJob, url: URL, tally: Tally, end: number): Promise<string[]> {
  const RATE = 20;
  const pool = new Pool(url.origin, { connections: 8 });
  await openLoop(1_000 / RATE, 5_000, end, 32, tally, (i) => graphqlRequest(pool, url, job.tokens.viewer, fragmentChain(30, `F${i.toString(36)}x`), {}, tally));
  await pool.close();
  return [`${RATE} documents a second of ${fragmentChain(30, 'F0x').length} bytes: 30 fragments each spreading the next twice`];
}

// ---- item 2 --------------------------------------------------------------------------------------

async function vmFlood(job: AttackJob, url: URL, tally: Tally, end: number): Promise<string[]> {
  const RATE = 4; // the issue's reproduction: 400 batches in 105 s
  const BATCH = 2_000; // TRANSIT_MAX_REPORT_BATCH
  const pool = new Pool(url.origin, { connections: 8 });
  const batch = (from: number, size: number, status: string) => Array.from({ length: size }, (_, i) => ({ vmId: `flood-${from + i}`, status }));
  let next = 0;
  let cycles = 0;
  const report = (vms: unknown[]) => graphqlRequest(pool, url, job.tokens.floodHost, REPORT, { input: { hostId: job.hosts.flood, vms } }, tally);
  // Fill the host to its cap first.
  await report(batch(next, BATCH, 'UP'));
  next += BATCH;
  await openLoop(1_000 / RATE, 400, end, 8, tally, async (i) => {
    const from = next;
    next += BATCH;
    if (i % 8 === 7) {
      // The host stops answering (its VMs become UNKNOWN), then reports again (they are restored).
      cycles++;
      await graphqlRequest(pool, url, job.tokens.fencer, HOST_STATUS, { input: { hostId: job.hosts.flood, status: 'NON_RESPONSIVE' } }, tally);
      await report([]);
    } else if (i % 2 === 0) {
      await report(batch(from, BATCH, 'UP')); // more VMs on the host
    } else {
      await report(batch(from, BATCH, 'DOWN')); // VMs never seen, reported DOWN
    }
  });
  await pool.close();
  return [`${RATE} batches a second of ${BATCH} new VMs (UP on the host, or DOWN), after filling the host; ${next.toLocaleString('en')} VM ids in all; ${cycles} NON_RESPONSIVE/recovery cycles`];
}

// ---- item 4 --------------------------------------------------------------------------------------

interface Slow {
  readonly socket: Socket;
  received: string;
}

function openSlow(url: URL, head: string, tally: Tally, onClose: () => void): Slow {
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  const slow: Slow = { socket, received: '' };
  socket.write(head); // buffered until connected, so always before any trickle
  socket.on('data', (chunk: Buffer) => (slow.received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    const status = /^HTTP\/1\.1 (\d{3})/.exec(slow.received)?.[1];
    const code = /"code":"([A-Z_]+)"/.exec(slow.received)?.[1];
    tally.add(status === undefined ? 'closed unanswered' : `HTTP ${status}${code === undefined ? '' : ` ${code}`}`);
    onClose();
  });
  tally.sent++;
  return slow;
}

async function slowConnections(job: AttackJob, url: URL, tally: Tally, end: number): Promise<string[]> {
  const SLOWLORIS = 11_000;
  const SLOW_BODIES = 2_000;
  const MAX_OPENS = 40_000;
  const open = new Set<Slow>();
  let opens = 0;
  let peak = 0;
  const partialHead = `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\n`;
  const bodyHead = `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"query":"`;
  const openSlowloris = () => {
    if (performance.now() >= end || opens >= MAX_OPENS) return;
    opens++;
    const slow = openSlow(url, partialHead, tally, () => {
      open.delete(slow);
      openSlowloris(); // the attacker opens another
    });
    open.add(slow);
    peak = Math.max(peak, open.size);
  };
  for (let i = 0; i < SLOW_BODIES; i++) {
    opens++;
    const slow = openSlow(url, bodyHead, tally, () => open.delete(slow));
    open.add(slow);
  }
  for (let i = 0; i < SLOWLORIS; i++) {
    openSlowloris();
    if (i % 500 === 499) await sleep(10);
  }
  // Trickle: one more header line (or body byte) every 2 s on every connection still open.
  while (performance.now() < end) {
    await sleep(2_000);
    for (const slow of open) if (!slow.socket.destroyed) slow.socket.write(slow.received === '' ? 'x-slow: 1\r\n' : 'a');
  }
  for (const slow of open) slow.socket.destroy();
  await sleep(200);
  return [`${SLOWLORIS} connections sending their headers slowly (opened again when closed), ${SLOW_BODIES} requests without a token sending their body slowly; ${opens} opened in all, at most ${peak} at once`];
}

// ---- item 5 --------------------------------------------------------------------------------------

async function subscriptions(job: AttackJob, url: URL, tally: Tally, end: number): Promise<string[]> {
  const CONNECTIONS = 60;
  const PER_CONNECTION = 100;
  const SSE = 100;
  const pool = new Pool(url.origin, { connections: 4 });
  // A VM for the churning host to flip: about 20 transitions a second.
  await graphqlRequest(pool, url, job.tokens.churnHost, REPORT, { input: { hostId: job.hosts.churn, vms: [{ vmId: 'churn-1', status: 'UP' }] } }, tally);
  const wsUrl = url.href.replace(/^http/, 'ws');
  const sockets: WebSocket[] = [];
  let delivered = 0;
  for (let c = 0; c < CONNECTIONS; c++) {
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    sockets.push(socket);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${job.tokens.viewer}` } })));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; id?: string; payload?: { errors?: { extensions?: { code?: string } }[] } | { extensions?: { code?: string } }[] };
      if (message.type === 'connection_ack') {
        for (let i = 0; i < PER_CONNECTION; i++) {
          tally.sent++;
          socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: 'subscription Watch { transitions { cursor vmId to { status hostId } } }' } }));
        }
      } else if (message.type === 'next') {
        const errors = (message.payload as { errors?: { extensions?: { code?: string } }[] }).errors;
        if (errors !== undefined) tally.add(errors[0]?.extensions?.code ?? 'error');
        else delivered++;
      } else if (message.type === 'error') {
        tally.add((message.payload as { extensions?: { code?: string } }[])[0]?.extensions?.code ?? 'error');
      }
    });
    socket.on('close', (code) => {
      if (code !== 1000 && code !== 1005) tally.add(`close ${code}`);
    });
    socket.on('error', () => undefined);
  }
  const sse: AbortController[] = [];
  const sseAttempt = async () => {
    const abort = new AbortController();
    sse.push(abort);
    tally.sent++;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${job.tokens.viewer}` },
        body: JSON.stringify({ query: 'subscription Watch { transitions { cursor } }' }),
        signal: abort.signal,
      });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      const code = /"code":"([A-Z_]+)"/.exec(first)?.[1];
      if (code !== undefined) tally.add(`${code} (SSE)`);
    } catch {
      // aborted at the end
    }
  };
  await sleep(1_000);
  for (let i = 0; i < SSE; i++) void sseAttempt();
  let flips = 0;
  while (performance.now() < end) {
    const status = flips++ % 2 === 0 ? 'DOWN' : 'UP';
    await graphqlRequest(pool, url, job.tokens.churnHost, REPORT, { input: { hostId: job.hosts.churn, vms: [{ vmId: 'churn-1', status }] } }, new Tally());
    await sleep(50);
  }
  for (const abort of sse) abort.abort();
  for (const socket of sockets) socket.close(1000);
  await pool.close();
  await sleep(200);
  return [`${CONNECTIONS} graphql-ws connections × ${PER_CONNECTION} subscriptions and ${SSE} SSE subscriptions asked by one viewer; ${flips} transitions made; ${delivered} items delivered to it`];
}

async function run(job: AttackJob): Promise<AttackResult> {
  const url = new URL(job.url);
  const tally = new Tally();
  const end = performance.now() + job.durationMs;
  let notes: string[] = [];
  switch (job.scenario) {
    case 'idle':
      await sleep(job.durationMs);
      break;
    case 'fragments':
      notes = await fragments(job, url, tally, end);
      break;
    case 'vm-flood':
      notes = await vmFlood(job, url, tally, end);
      break;
    case 'slow-connections':
      notes = await slowConnections(job, url, tally, end);
      break;
    case 'subscriptions':
      notes = await subscriptions(job, url, tally, end);
      break;
  }
  return { sent: tally.sent, answers: tally.answers, notes };
}

await workerMain(run);
