/**
 * `GET /`: the live dashboard (docs/contract.md §12), served by this process with no CDN.
 *
 * The app's source is TypeScript + Preact in `src/dashboard/`; esbuild (already installed: tsx runs
 * on it) bundles it in memory the first time a browser asks for it, in some 100 ms, and the bundle
 * is kept for the life of the process. No build step, no generated file in the repository, nothing
 * downloaded at run time (docs/decisions.md §12).
 *
 * Also bundled here: the fetcher GraphiQL uses on `/graphql` (`graphiql-fetcher.js`), which sends
 * the Authorization header of GraphiQL's header editor as graphql-ws `connectionParams`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';

const SOURCE = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** Where the browser finds the assets. */
export const DASHBOARD_ASSETS = Object.freeze({
  script: '/dashboard/app.js',
  style: '/dashboard/app.css',
  graphiqlFetcher: '/dashboard/graphiql-fetcher.js',
});

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const asset = (body: string | Uint8Array, type: string): Asset => {
  const buffer = Buffer.from(body);
  return { body: buffer, type, etag: `"${createHash('sha256').update(buffer).digest('base64url').slice(0, 16)}"` };
};

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Transit</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="${DASHBOARD_ASSETS.style}">
  </head>
  <body>
    <div id="app"><p class="boot">Loading the Transit dashboard…</p></div>
    <noscript>The Transit dashboard needs JavaScript; the API is at /graphql.</noscript>
    <script type="module" src="${DASHBOARD_ASSETS.script}"></script>
  </body>
</html>
`;

/** Same-origin only: scripts, styles and sockets of this server; no frame may embed it. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** esbuild, loaded when the first browser asks: a server nobody opens in a browser never loads it. */
const esbuild = () => import('esbuild');

async function bundleApp(): Promise<Map<string, Asset>> {
  const { build } = await esbuild();
  const result = await build({
    entryPoints: { app: `${SOURCE}main.tsx` },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    outdir: '/dashboard',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: `${SOURCE}tsconfig.json`,
    logLevel: 'silent',
    legalComments: 'none',
    charset: 'utf8',
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    if (file.path.endsWith('/app.js')) assets.set(DASHBOARD_ASSETS.script, asset(file.contents, 'text/javascript; charset=utf-8'));
    if (file.path.endsWith('/app.css')) assets.set(DASHBOARD_ASSETS.style, asset(file.contents, 'text/css; charset=utf-8'));
  }
  return assets;
}

async function bundleGraphiQLFetcher(): Promise<Asset> {
  const { build } = await esbuild();
  const result = await build({
    entryPoints: [`${SOURCE}graphiql-fetcher.ts`],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    tsconfig: `${SOURCE}tsconfig.json`,
    logLevel: 'silent',
    legalComments: 'none',
    charset: 'utf8',
  });
  return asset((result.outputFiles[0] as { contents: Uint8Array }).contents, 'text/javascript; charset=utf-8');
}

export interface Dashboard {
  /** Answers the request when it is for the dashboard; false when it is not (yoga serves it). */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
  /** Bundles now rather than on the first request (the demo does, so its first page is quick). */
  prepare(): Promise<void>;
}

// One bundle per process, shared by every server it runs (tests start many): the source does not change.
let app: Promise<Map<string, Asset>> | null = null;
let fetcher: Promise<Asset> | null = null;
const appAssets = () => (app ??= bundleApp());
const fetcherAsset = () => (fetcher ??= bundleGraphiQLFetcher());

export function createDashboard(onError: (message: string, error: unknown) => void): Dashboard {
  const index = asset(INDEX_HTML, 'text/html; charset=utf-8');

  const send = (req: IncomingMessage, res: ServerResponse, found: Asset, headers: Record<string, string> = {}) => {
    if (req.headers['if-none-match'] === found.etag) {
      res.writeHead(304, { etag: found.etag, ...headers }).end();
      return;
    }
    res.writeHead(200, { 'content-type': found.type, 'content-length': found.body.length, etag: found.etag, 'cache-control': 'no-cache', ...headers });
    res.end(req.method === 'HEAD' ? undefined : found.body);
  };
  const failed = (res: ServerResponse, error: unknown) => {
    onError('the dashboard could not be bundled', error);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('The dashboard could not be built; see the server log.\n');
  };

  return {
    prepare: async () => {
      await Promise.all([appAssets(), fetcherAsset()]);
    },
    serve(req, res) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/') {
        send(req, res, index, SECURITY_HEADERS);
        return true;
      }
      if (path === '/dashboard' || path === '/ui') {
        res.writeHead(308, { location: '/' }).end();
        return true;
      }
      if (path === DASHBOARD_ASSETS.graphiqlFetcher) {
        fetcherAsset().then((found) => send(req, res, found), (error: unknown) => failed(res, error));
        return true;
      }
      if (path === DASHBOARD_ASSETS.script || path === DASHBOARD_ASSETS.style) {
        appAssets().then(
          (assets) => {
            const found = assets.get(path);
            if (found === undefined) res.writeHead(404).end();
            else send(req, res, found);
          },
          (error: unknown) => failed(res, error),
        );
        return true;
      }
      return false;
    },
  };
}
