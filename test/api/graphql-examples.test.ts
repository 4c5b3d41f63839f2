/**
 * Runs docs/graphql-examples.md against a real server, in order, as a user pasting each example
 * into GraphiQL would: queries and mutations over HTTP, subscriptions over graphql-ws.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getOperationAST, parse, type FormattedExecutionResult } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResultStream } from '../utils/result-stream.js';
import { startServer, type TestServer } from '../utils/server.js';
import { wsClient, type WsClient } from '../utils/ws.js';

const EXAMPLES = readFileSync(new URL('../../docs/graphql-examples.md', import.meta.url), 'utf8');

/** Examples that show a refusal, with the code they show. */
const REFUSALS: Record<string, string> = { MigrateVm1Again: 'VM_ALREADY_MIGRATING', CancelHostDEvacuationAgain: 'NOT_EVACUATING', RemoveHostB: 'HOST_NOT_EMPTY' };

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
    const results = new Map<string, Record<string, unknown>>();
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
      results.set(example.name, result.data ?? {});
      expect({ example: example.name, status, errors: result.errors }).toEqual({ example: example.name, status: 200, errors: undefined });
      results.set(example.name, result.data ?? {});
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
    // The evacuation walkthrough (docs/contract.md §9) does what it says: as planned, then COMPLETED.
    const plan = results.get('PlanHostCEvacuation') as { evacuationPlan: { moves: { vm: { id: string }; destination: { id: string } }[] } };
    const evacuated = results.get('EvacuateHostC') as { evacuateHost: { evacuation: { migrations: { vm: { id: string }; destination: { id: string } | null }[] } } };
    expect(evacuated.evacuateHost.evacuation.migrations.map((m) => [m.vm.id, m.destination?.id])).toEqual(plan.evacuationPlan.moves.map((m) => [m.vm.id, m.destination.id]));
    expect(results.get('HostCInMaintenance')).toMatchObject({
      host: { id: 'host-c', status: 'MAINTENANCE', vms: [] },
      evacuations: { edges: [{ node: { state: 'COMPLETED', total: 2, moved: 2, remaining: 0, failed: 0 } }] },
    });
    expect(results.get('CancelHostDEvacuation')).toMatchObject({ cancelEvacuation: { evacuation: { state: 'CANCELLED', host: { status: 'UP' } } } });
    const orders = subscriptions.get('HostAOrders')?.data.map((d) => (d.hostCommands as { kind: string; vmId: string }).kind);
    expect(orders).toEqual(['MIGRATE', 'MIGRATE', 'CANCEL']);

    // The queue walkthrough says what it shows (docs/contract.md §8, §10).
    const states = (name: string) => JSON.parse(JSON.stringify(results.get(name))) as Record<string, { migration: Record<string, unknown> }>;
    expect(states('FillTheQueue').q3?.migration).toMatchObject({ state: 'PENDING', priority: 'NORMAL', waitingReason: 'host-x has 2 of 2 outgoing migrations', destination: null });
    const queue = results.get('TheQueue') as { pending: { edges: unknown[] }; inFlight: { edges: { node: { blockedBy: { code: string }[] } }[] }; events: { edges: { node: { actor: string } }[] } };
    expect(queue.pending.edges.length).toBe(1);
    expect(queue.inFlight.edges.map((e) => e.node.blockedBy.map((b) => b.code))).toEqual([
      ['SOURCE_NOT_HEARD', 'DESTINATION_NOT_HEARD', 'SOURCE_NOT_CONFIRMED'],
      ['SOURCE_NOT_HEARD', 'DESTINATION_NOT_HEARD', 'SOURCE_NOT_CONFIRMED'],
    ]);
    expect(queue.events.edges.map((e) => e.node.actor)).toEqual(['open']);
    expect(states('CancelQ3').cancelMigration?.migration).toMatchObject({ state: 'CANCELLED', cancelRequested: true });
  });

  it('should stream transitions over SSE with the curl -N example as written', async () => {
    const command = /```sh\n(curl -N [\s\S]*?)```/.exec(EXAMPLES)?.[1];
    expect(command).toBeDefined();
    const curl = spawn('sh', ['-c', (command as string).replace('http://127.0.0.1:4000/graphql', server.url)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    curl.stdout.on('data', (chunk) => (output += String(chunk)));
    try {
      await server.untilSubscribers(1);
      await server.requestText('mutation { registerHost(input: { hostId: "host-curl" }) { errors { code } } }');
      const deadline = Date.now() + 10_000;
      while (!output.includes('"cause":"HOST_REGISTERED"')) {
        if (Date.now() > deadline) throw new Error(`no transition from curl:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(output).toMatch(/^event: next\ndata: \{"data":\{"transitions":\{"cursor":"[^"]+","cause":"HOST_REGISTERED"/m);
    } finally {
      curl.kill();
    }
  });
});
