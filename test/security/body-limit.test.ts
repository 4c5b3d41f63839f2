/**
 * The request body limit (`TRANSIT_MAX_BODY_BYTES`, src/server/http/body-limit.ts) holds whether the
 * body declares its length or not: a declared length above the limit is refused before the body
 * is read, a chunked body is counted as it is read; both answer 413 REQUEST_ENTITY_TOO_LARGE.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { serverPerTest } from '../utils/server.js';

const LIMIT = 16 * 1_024;

/** POSTs `chunks` with chunked transfer encoding (no Content-Length); resolves with the status and body. */
function postChunked(url: string, chunks: readonly string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe('the request body limit', () => {
  const server = serverPerTest({ maxBodyBytes: LIMIT });

  it('should answer a chunked body within the limit', async () => {
    const query = JSON.stringify({ query: '{ engine { epoch } }' });
    const { status, body } = await postChunked(server().url, [query.slice(0, 5), query.slice(5)]);
    expect(status).toBe(200);
    expect(JSON.parse(body)).toEqual({ data: { engine: { epoch: server().app.table.epoch } } });
  });

  it('should refuse a chunked body above the limit with 413 REQUEST_ENTITY_TOO_LARGE', async () => {
    const padding = 'x'.repeat(4_096);
    const chunks = ['{"query":"{ engine { epoch } }","variables":{"padding":"', ...Array.from({ length: LIMIT / padding.length + 1 }, () => padding), '"}}'];
    const { status, body } = await postChunked(server().url, chunks);
    expect(status).toBe(413);
    expect((JSON.parse(body) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it('should refuse a declared length above the limit with 413 REQUEST_ENTITY_TOO_LARGE', async () => {
    const response = await fetch(server().url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ engine { epoch } }', variables: { padding: 'x'.repeat(LIMIT) } }) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });
});
