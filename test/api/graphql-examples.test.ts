/**
 * Runs docs/graphql-examples.md against a real server, in order, as a user pasting each example
 * into GraphiQL would: queries and mutations over HTTP, subscriptions over graphql-ws.
 */
import { readFileSync } from 'node:fs';
import { getOperationAST, parse, type FormattedExecutionResult } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultStream } from '../utils/result-stream.js';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient, type WsClient } from '../utils/ws.js';

const EXAMPLES = readFileSync(new URL('../../docs/graphql-examples.md', import.meta.url), 'utf8');

/** Examples that show a refusal, with the code they show. */
const REFUSALS: Record<string, string> = { MigrateVm1Again: 'VM_ALREADY_MIGRATING', RemoveHostB: 'HOST_NOT_EMPTY' };

interface Example {
  readonly name: string;
  readonly kind: 'query' | 'mutation' | 'subscription';
  readonly query: string;
  readonly variables: Record<string, unknown> | undefined;
}

function examples(): Example[] {
  const blocks = [...EXAMPLES.matchAll(/```(graphql|json)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], text: m[2] as string }));
  const found: Example[] = [];
  blocks.forEach((block, i) => {
    if (block.lang !== 'graphql') return;
    const operation = getOperationAST(parse(block.text));
    if (operation?.name === undefined) throw new Error(`example without an operation name:\n${block.text}`);
    const next = blocks[i + 1];
    const variables = next?.lang === 'json' ? (JSON.parse(next.text) as Record<string, unknown>) : undefined;
    found.push({ name: operation.name.value, kind: operation.operation, query: block.text, variables });
  });
  return found;
}

/** Payload `errors` of every mutation field in a result. */
const payloadErrorCodes = (data: Record<string, unknown>): string[] =>
  Object.values(data).flatMap((payload) => ((payload as { errors?: { code: string }[] }).errors ?? []).map((e) => e.code));

describe('docs/graphql-examples.md', () => {
  let server: TestServer;
  let ws: WsClient;

  beforeEach(async () => {
    server = await startServer();
    ws = wsClient(server.wsUrl);
  });
  afterEach(async () => {
    await ws.dispose();
    await server.stop();
  });

  it('should run every example, in order, as written', async () => {
    const all = examples();
    expect(all.length).toBeGreaterThan(15);
    const subscriptions = new Map<string, ResultStream<Record<string, unknown>>>();
    for (const example of all) {
      // A placeholder cursor stands for "after the first item of this engine run".
      const variables = example.variables && JSON.parse(JSON.stringify(example.variables).replace(/"<[^"]*>"/g, `"${server.app.table.epoch}:1"`));
      if (example.kind === 'subscription') {
        const stream = new ResultStream<Record<string, unknown>>();
        ws.client.subscribe(
          { query: example.query, variables },
          {
            next: (result) => stream.push(result as FormattedExecutionResult<Record<string, unknown>>),
            error: (error) => stream.end({ kind: 'error', error }),
            complete: () => stream.end({ kind: 'complete' }),
          },
        );
        subscriptions.set(example.name, stream);
        await server.untilSubscribers(subscriptions.size);
        continue;
      }
      const { status, result } = await server.requestText(example.query, variables);
      expect({ example: example.name, status, errors: result.errors }).toEqual({ example: example.name, status: 200, errors: undefined });
      if (example.kind === 'mutation') {
        const expected = REFUSALS[example.name];
        expect({ example: example.name, codes: payloadErrorCodes(result.data ?? {}) }).toEqual({ example: example.name, codes: expected ? [expected] : [] });
      }
    }

    for (const [name, stream] of subscriptions) {
      await stream.until((s) => s.data.length > 0);
      expect({ subscription: name, errors: stream.errors }).toEqual({ subscription: name, errors: [] });
    }
    const watched = subscriptions.get('WatchTransitions')?.data.map((d) => (d.transitions as { migration: { state: string } | null }).migration?.state);
    expect(watched).toContain('SUCCEEDED');
    const orders = subscriptions.get('HostAOrders')?.data.map((d) => (d.hostCommands as { kind: string; vmId: string }).kind);
    expect(orders).toEqual(['MIGRATE', 'MIGRATE', 'CANCEL']);
  });
});
