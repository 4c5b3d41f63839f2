/**
 * GraphiQL on `/graphql`, from `@graphql-yoga/render-graphiql` (no CDN), with Transit's own fetcher
 * (`src/dashboard/graphiql-fetcher.ts`): yoga's sends the header editor's headers with HTTP requests
 * only, so with a credentials file a subscription's `connection_init` went out empty, the socket was
 * closed with 4403 and GraphiQL waited forever. Ours sends the `Authorization` header as graphql-ws
 * `connectionParams` and shows a refused socket as an error.
 */
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';
import { DASHBOARD_ASSETS } from './dashboard.js';

/** The call yoga's page ends with; ours passes the same options plus the fetcher. */
const RENDER_CALL = 'YogaGraphiQL.renderYogaGraphiQL(';

export function renderTransitGraphiQL(options: GraphiQLOptions): string {
  const html = renderGraphiQL(options);
  const at = html.lastIndexOf(RENDER_CALL);
  // A yoga upgrade that changes its page keeps GraphiQL working, with yoga's own fetcher.
  if (at === -1) return html;
  const endpoint = JSON.stringify(options.endpoint ?? '/graphql');
  const patched = `${html.slice(0, at)}TransitGraphiQL.render(YogaGraphiQL, ${endpoint}, ${html.slice(at + RENDER_CALL.length)}`;
  return patched.replace('<script>', `<script src="${DASHBOARD_ASSETS.graphiqlFetcher}"></script>\n      <script>`);
}
