/**
 * The engine's side of the change stream: every ChangeSet its table makes is appended to the
 * stream, in order, by a script that first checks that the epoch counter is still this engine's
 * epoch. That check is the fence (lease.ts): once another process has taken over, nothing this
 * engine does reaches a reader, however long it was paused and whatever it believes.
 *
 * Appends are pipelined on one connection, so Redis applies them in the order they were made. The
 * first failure, whatever it is (fenced, Redis unreachable, a reply lost), is final: the stream
 * can no longer be known to hold every change of this epoch, so the engine must step down
 * (`onFailure`), and a new engine run, with a new epoch, begins elsewhere or here.
 */
import type { Host, HostCommand, Millis } from '../domain/model.js';
import type { ChangeSet } from '../domain/table/table.js';
import { encodeEntry, hostsNamed, ordersTouched } from './change-entry.js';
import { type ClusterKeys, type Redis, Script } from './redis.js';

/**
 * KEYS: epoch, changes, pending. ARGV: epoch, entry id, max length, data, then pairs (host, orders
 * JSON; an empty string removes the host's entry). 1 when appended, 0 when fenced.
 */
const APPEND = new Script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], ARGV[2], 'd', ARGV[4])
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[3], ARGV[i]) else redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
end
return 1
`);

export class FencedError extends Error {
  constructor(epoch: number) {
    super(`epoch ${epoch} is no longer the engine's: another process took over`);
  }
}

/** What the publisher reads from the table when a change is made. */
export interface PublishedTable {
  readonly latestSeq: number;
  host(id: string): Host | undefined;
  pendingCommands(hostId: string): HostCommand[];
}

export interface PublisherOptions {
  readonly epoch: number;
  /** The stream's approximate maximum length (`MAXLEN ~`). */
  readonly maxLength: number;
  readonly clock?: () => Millis;
  /** Called once, with the first failure: the engine must stop applying commands. */
  readonly onFailure: (error: Error) => void;
}

export class ChangePublisher {
  private n = 0;
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly options: PublisherOptions,
  ) {}

  get failed(): Error | null {
    return this.failure;
  }

  /** Appends one ChangeSet; called from the table's listener, while the table is as the change left it. */
  publish(changes: ChangeSet, table: PublishedTable): void {
    if (this.closed || this.failure !== null) return;
    const { epoch } = this.options;
    const named = [...hostsNamed(changes)].map((id) => table.host(id)).filter((h): h is Host => h !== undefined);
    const pending = new Map<string, HostCommand[]>();
    for (const host of ordersTouched(changes)) pending.set(host, table.pendingCommands(host));
    const n = ++this.n;
    const data = encodeEntry({ epoch, n, changes, hosts: named, pending, latestSeq: table.latestSeq, at: (this.options.clock ?? Date.now)() });
    const pairs: string[] = [];
    for (const [host, orders] of pending) pairs.push(host, orders.length === 0 ? '' : JSON.stringify(orders.map((o) => ({ ...o, epoch }))));
    const appended = APPEND.run(this.redis, [this.keys.epoch, this.keys.changes, this.keys.pending], [String(epoch), `${epoch}-${n}`, this.options.maxLength, data, ...pairs]);
    this.tail = appended.then(
      (reply) => {
        if (reply !== 1) this.fail(new FencedError(epoch));
      },
      (error: unknown) => this.fail(new Error(`appending ${epoch}-${n}: ${error instanceof Error ? error.message : String(error)}`)),
    );
  }

  /** Resolves once every change published so far is in Redis; rejects if any could not be. */
  async settled(): Promise<void> {
    await this.tail;
    if (this.failure !== null) throw this.failure;
  }

  /** Publishes nothing more (the engine stepped down). */
  close(): void {
    this.closed = true;
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    if (!this.closed) this.options.onFailure(error);
  }
}
