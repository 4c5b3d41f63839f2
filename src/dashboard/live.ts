/**
 * Keeps the dashboard live (docs/contract.md §5, §12):
 * - loads the state (engine, hosts, migrations in flight) in one query, then subscribes to
 *   `transitions` and `events` over graphql-ws from the cursor that state was read at;
 * - after a dropped connection (or a stream the server ended) it subscribes again from the last
 *   cursor it received, so nothing is missed and nothing is applied twice;
 * - a `RESYNC_REQUIRED` (the engine restarted, or the cursor fell out of the kept history) reloads
 *   the state and subscribes fresh, and says so on the page: never silently;
 * - with a credentials file it asks for a token (kept in sessionStorage), and shows a refused one.
 */
import { createClient, type Client } from 'graphql-ws';
import { DOCUMENTS, ROWS } from './graphql/documents.js';
import { EVACUATIONS, PART_TWO_FIELDS } from './graphql/part-two.js';
import { graphqlRequest, isAnswered, RefusedError } from './http.js';
import type { EvacuationRow, EventRow, HostRow, StateResult, TransitionRow } from './model.js';
import { DashboardStore } from './store.js';
import { readToken, saveToken } from './token.js';

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'token-required';

export interface Notice {
  readonly id: number;
  readonly kind: 'resync' | 'error';
  readonly text: string;
  /** The server's own words, shown on hover. */
  readonly detail: string;
  readonly at: Date;
}

type Stream = 'transitions' | 'events';

const RETRY_MS = { first: 250, max: 5_000 };
/** At most this often the page is drawn again, however fast items arrive. */
const RENDER_EVERY_MS = 150;
const WS_FORBIDDEN = 4403;

interface GraphQLErrorLike {
  readonly message: string;
  readonly extensions?: { readonly code?: string };
}

export class LiveDashboard {
  readonly store = new DashboardStore();
  connection: Connection = 'connecting';
  /** Why a token is asked for (null at first sight of a secured server). */
  tokenProblem: string | null = null;
  notices: Notice[] = [];
  token: string | null = readToken();
  /** Resyncs since the page opened. */
  resyncs = 0;
  private client: Client | null = null;
  private generation = 0;
  private readonly unsubscribe = new Map<Stream, () => void>();
  private readonly lastCursor = new Map<Stream, string>();
  private readonly retries = new Map<Stream | 'load', number>();
  private readonly listeners = new Set<() => void>();
  private renderTimer: ReturnType<typeof setTimeout> | null = null;
  private hostsTimer: ReturnType<typeof setTimeout> | null = null;
  private evacuationsTimer: ReturnType<typeof setTimeout> | null = null;
  private noticeIds = 0;

  constructor(private readonly endpoint: string) {}

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    void this.connect('start');
  }

  /** Uses this token from now on (empty: none), and starts over. */
  setToken(token: string): void {
    this.token = token.trim() === '' ? null : token.trim();
    saveToken(this.token);
    this.tokenProblem = null;
    void this.connect('start');
  }

  forgetToken(): void {
    this.token = null;
    saveToken(null);
    this.askForToken(null);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
    this.changed(true);
  }

  /** A GraphQL request with the current token; a refused token brings the prompt back. */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    try {
      return await graphqlRequest<T>(this.endpoint, this.token, query, variables);
    } catch (error) {
      if (error instanceof RefusedError && error.code === 'UNAUTHENTICATED') this.askForToken(error.message);
      throw error;
    }
  }

  /** Loads the state and subscribes from its cursor; `resync` says why on the page. */
  private async connect(why: 'start' | 'resync', detail = ''): Promise<void> {
    const generation = ++this.generation;
    this.stopStreams();
    this.connection = this.connection === 'live' ? 'reconnecting' : this.connection === 'token-required' ? 'connecting' : this.connection;
    this.changed(true);
    const previousEpoch = this.store.engine?.epoch ?? null;
    let state: StateResult;
    try {
      state = await this.request<StateResult>(DOCUMENTS.state, { rows: ROWS });
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof RefusedError) {
        this.askForToken(error.code === 'FORBIDDEN' ? `this token may not read the dashboard's state: ${error.message}` : error.message);
        return;
      }
      // Transit answered with GraphQL errors (e.g. QUERY_TOO_COSTLY): say so on the page, never
      // silently (once per distinct answer), then retry as when it is away.
      if (isAnswered(error)) {
        const text = `Transit refused the dashboard's state query: ${error.message}`;
        if (this.notices.at(-1)?.text !== text) this.notice('error', text);
      }
      // Transit is away (restarting): try again, with backoff.
      this.connection = 'reconnecting';
      this.changed(true);
      setTimeout(() => {
        if (generation === this.generation) void this.connect(why, detail);
      }, this.backoff('load'));
      return;
    }
    if (generation !== this.generation) return;
    this.retries.delete('load');
    this.store.load(state);
    this.lastCursor.set('transitions', state.engine.cursor);
    this.lastCursor.set('events', state.engine.cursor);
    if (why === 'resync') {
      this.resyncs++;
      const restarted = previousEpoch !== null && previousEpoch !== state.engine.epoch;
      this.notice(
        'resync',
        restarted
          ? `The engine restarted (epoch ${previousEpoch} → ${state.engine.epoch}): the dashboard reloaded its state (RESYNC_REQUIRED).`
          : 'The dashboard fell behind the history Transit keeps: it reloaded its state (RESYNC_REQUIRED).',
        detail,
      );
    }
    this.client = this.newClient(generation);
    this.subscribe('transitions', generation);
    this.subscribe('events', generation);
    this.changed(true);
  }

  private newClient(generation: number): Client {
    const token = this.token;
    const client = createClient({
      url: new URL(this.endpoint, location.href).href.replace(/^http/, 'ws'),
      lazy: true,
      // No automatic retry: graphql-ws would resubscribe with the first cursor; we resubscribe from the last.
      retryAttempts: 0,
      keepAlive: 10_000,
      connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
      on: {
        connected: () => {
          if (generation !== this.generation) return;
          this.connection = 'live';
          this.retries.clear();
          this.changed(true);
        },
        closed: (event) => {
          if (generation !== this.generation) return;
          const code = (event as CloseEvent).code;
          if (code === WS_FORBIDDEN) {
            this.askForToken(`the WebSocket was refused (${WS_FORBIDDEN} Forbidden): ${(event as CloseEvent).reason || 'the token is missing or wrong'}`);
            return;
          }
          if (this.connection === 'live') {
            this.connection = 'reconnecting';
            this.changed(true);
          }
        },
      },
    });
    return client;
  }

  private subscribe(stream: Stream, generation: number): void {
    const client = this.client;
    if (client === null || generation !== this.generation) return;
    const query = stream === 'transitions' ? DOCUMENTS.transitions : DOCUMENTS.events;
    const again = () => {
      if (generation !== this.generation || this.connection === 'token-required') return;
      setTimeout(() => {
        if (generation === this.generation && this.connection !== 'token-required') this.subscribe(stream, generation);
      }, this.backoff(stream));
    };
    const dispose = client.subscribe<Record<string, unknown>>(
      { query, variables: { after: this.lastCursor.get(stream) ?? null } },
      {
        next: (result) => {
          if (generation !== this.generation) return;
          if (result.data) {
            this.retries.delete(stream);
            if (stream === 'transitions') this.onTransition(result.data.transitions as TransitionRow);
            else this.onEvent(result.data.events as EventRow);
            return;
          }
          this.onStreamErrors(stream, (result.errors ?? []) as readonly GraphQLErrorLike[], generation);
        },
        // The socket closed (the engine went away) or the server refused the operation.
        error: (error) => {
          if (generation !== this.generation) return;
          if (Array.isArray(error)) this.onStreamErrors(stream, error as GraphQLErrorLike[], generation);
          else again();
        },
        // The server ended the stream (shutdown, SUBSCRIBER_TOO_SLOW): resume from the last cursor.
        complete: again,
      },
    );
    this.unsubscribe.set(stream, dispose);
  }

  private onStreamErrors(stream: Stream, errors: readonly GraphQLErrorLike[], generation: number): void {
    const codes = errors.map((e) => e.extensions?.code);
    if (codes.includes('RESYNC_REQUIRED')) {
      // Both streams hear it; the first reloads, the second belongs to an older generation by then.
      void this.connect('resync', `${stream}: ${errors[0]?.message ?? 'RESYNC_REQUIRED'}`);
      return;
    }
    if (codes.includes('UNAUTHENTICATED') || codes.includes('FORBIDDEN')) {
      this.askForToken(errors[0]?.message ?? 'refused');
      return;
    }
    if (codes.includes('SUBSCRIBER_TOO_SLOW')) return; // `complete` follows: resumed from the last cursor
    this.notice('error', `${stream}: ${errors.map((e) => e.message).join('; ')}`);
    if (generation === this.generation) {
      setTimeout(() => {
        if (generation === this.generation) this.subscribe(stream, generation);
      }, this.backoff(stream));
    }
  }

  private onTransition(t: TransitionRow): void {
    this.lastCursor.set('transitions', t.cursor);
    if (this.store.applyTransition(t)) this.reloadHostsSoon();
    this.changed();
  }

  private onEvent(e: EventRow): void {
    this.lastCursor.set('events', e.cursor);
    this.store.applyEvent(e);
    if (PART_TWO_FIELDS && (e.type.startsWith('EVACUATION_') || this.store.evacuations.some((v) => v.state === 'IN_PROGRESS'))) this.reloadEvacuationsSoon();
    this.changed();
  }

  /** A host the dashboard has not seen registered: read the host list again (hosts carry their cluster). */
  private reloadHostsSoon(): void {
    if (this.hostsTimer !== null) return;
    const generation = this.generation;
    this.hostsTimer = setTimeout(() => {
      this.hostsTimer = null;
      this.request<{ hosts: HostRow[] }>(DOCUMENTS.hosts).then(
        ({ hosts }) => {
          if (generation !== this.generation) return;
          this.store.replaceHosts(hosts);
          this.changed();
        },
        () => undefined,
      );
    }, 500);
  }

  /** Evacuation counts change as their migrations end: read them again, at most once a second. */
  reloadEvacuationsSoon(): void {
    if (this.evacuationsTimer !== null) return;
    this.evacuationsTimer = setTimeout(() => {
      this.evacuationsTimer = null;
      this.request<{ evacuations: { edges: { node: EvacuationRow }[] } }>(EVACUATIONS).then(
        ({ evacuations }) => {
          this.store.evacuations = evacuations.edges.map((e) => e.node);
          this.changed();
        },
        () => undefined,
      );
    }, 1_000);
  }

  private askForToken(problem: string | null): void {
    this.generation++;
    this.stopStreams();
    this.connection = 'token-required';
    this.tokenProblem = problem;
    this.changed(true);
  }

  private stopStreams(): void {
    for (const dispose of this.unsubscribe.values()) dispose();
    this.unsubscribe.clear();
    const client = this.client;
    this.client = null;
    void client?.dispose();
  }

  private backoff(what: Stream | 'load'): number {
    const n = this.retries.get(what) ?? 0;
    this.retries.set(what, n + 1);
    return Math.min(RETRY_MS.max, RETRY_MS.first * 2 ** n);
  }

  private notice(kind: Notice['kind'], text: string, detail = ''): void {
    this.notices = [...this.notices, { id: ++this.noticeIds, kind, text, detail, at: new Date() }].slice(-5);
  }

  /** Draws the page soon (at most every RENDER_EVERY_MS), or at once for what a person acts on. */
  changed(now = false): void {
    if (now) {
      if (this.renderTimer !== null) clearTimeout(this.renderTimer);
      this.renderTimer = null;
      for (const listener of this.listeners) listener();
      return;
    }
    if (this.renderTimer !== null) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = null;
      for (const listener of this.listeners) listener();
    }, RENDER_EVERY_MS);
  }
}
