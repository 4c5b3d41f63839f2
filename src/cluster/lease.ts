/**
 * The engine's lease and its fencing token (docs/contract.md §13).
 *
 * One key holds the lease: `SET key token NX PX ttl` takes it, a script that checks the token
 * renews it (`PEXPIRE`) or releases it (`DEL`), so a process can never renew or release a lease it
 * no longer holds. Taking the lease also increments the epoch counter, in the same script: the
 * new engine's epoch is a fencing token, higher than every epoch before it. A lease alone is not
 * safe: a process paused (GC, SIGSTOP, a VM migration of its own) past its TTL wakes up believing
 * it still holds it. Redis's documentation on distributed locks and Martin Kleppmann's "How to do
 * distributed locking" make the point; the remedy is a token that the resource checks. Here the
 * resources are the change stream (every append checks the epoch, publisher.ts) and the host
 * agents (they ignore orders from an epoch lower than the highest they have seen).
 *
 * Locally, the holder counts its lease valid until `ttl` (less a margin for clock drift) after it
 * *sent* the command that took or renewed it, on the monotonic clock: when that moment passes
 * without a renewal it stops applying commands, whatever Redis says later.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { type ClusterKeys, type Redis, Script } from './redis.js';

/** The current engine, as the takeover script wrote it. */
export interface EngineInfo {
  readonly epoch: number;
  /** Where its `/graphql` is reached. */
  readonly url: string;
  readonly node: string;
}

export type AcquireResult = { readonly acquired: true; readonly epoch: number } | { readonly acquired: false; readonly engine: EngineInfo | null };

/**
 * KEYS: lease, epoch, engine, changes, pending. ARGV: token, ttl ms, floor (wall clock ms), url,
 * node, max stream length, now (wall clock ms).
 *
 * The epoch is max(counter + 1, floor, last epoch in the stream + 1): the wall clock floor keeps
 * it increasing even when Redis lost the counter (restarted without persistence), and the stream
 * check keeps the stream's ids increasing. The first entry of the epoch, `<epoch>-0`, tells every
 * reader that a new engine run began.
 */
const ACQUIRE = new Script(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) == false then
  local engine = redis.call('HMGET', KEYS[3], 'epoch', 'url', 'node')
  return {0, engine[1] or '', engine[2] or '', engine[3] or ''}
end
local e = redis.call('INCR', KEYS[2])
local floor = tonumber(ARGV[3])
if e < floor then e = floor end
local last = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
if #last > 0 then
  local lastEpoch = tonumber(string.match(last[1][1], '^(%d+)-'))
  if lastEpoch ~= nil and e <= lastEpoch then e = lastEpoch + 1 end
end
local epoch = string.format('%d', e)
redis.call('SET', KEYS[2], epoch)
redis.call('DEL', KEYS[5])
redis.call('HSET', KEYS[3], 'epoch', epoch, 'url', ARGV[4], 'node', ARGV[5], 'since', ARGV[7])
local marker = '{"e":' .. epoch .. ',"n":0,"f":1,"l":0,"at":' .. ARGV[7] .. ',"start":true}'
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], epoch .. '-0', 'd', marker)
return {1, epoch}
`);

/** KEYS: lease. ARGV: token, ttl ms. 1 when renewed, 0 when the lease is not (any more) ours. */
const RENEW = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`);

/** KEYS: lease, engine. ARGV: token. Deletes the lease (and the engine's address) only when it is ours. */
const RELEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`);

/** Redlock's allowance for clocks that run at different rates: 1 % of the TTL, plus 2 ms. */
const driftMs = (ttlMs: number) => Math.ceil(ttlMs * 0.01) + 2;

export interface LeaseOptions {
  readonly ttlMs: number;
  /** This process, in the engine's address and `CLIENT LIST`. */
  readonly node: string;
  /** This process's `/graphql`, for the replicas to forward to. */
  readonly url: string;
  /** The stream's approximate maximum length, for the epoch's first entry. */
  readonly streamMaxLength: number;
}

export class EngineLease {
  private token: string | null = null;
  /** Monotonic time (performance.now) until which the lease is ours for certain. */
  private validUntil = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly options: LeaseOptions,
  ) {}

  /** Whether this process holds the lease for certain right now. */
  get valid(): boolean {
    return this.token !== null && performance.now() < this.validUntil;
  }

  /** Milliseconds the lease stays valid for certain (0 when not held). */
  get remainingMs(): number {
    return this.token === null ? 0 : Math.max(0, this.validUntil - performance.now());
  }

  /** Takes the lease if nobody holds it, as a new epoch; otherwise tells who holds it. */
  async tryAcquire(): Promise<AcquireResult> {
    const token = `${this.options.node}:${randomBytes(8).toString('hex')}`;
    const sentAt = performance.now();
    const now = Date.now();
    const reply = (await ACQUIRE.run(
      this.redis,
      [this.keys.lease, this.keys.epoch, this.keys.engine, this.keys.changes, this.keys.pending],
      [token, this.options.ttlMs, now, this.options.url, this.options.node, this.options.streamMaxLength, now],
    )) as [number, string, string?, string?];
    if (reply[0] === 1) {
      this.token = token;
      this.validUntil = sentAt + this.options.ttlMs - driftMs(this.options.ttlMs);
      return { acquired: true, epoch: Number(reply[1]) };
    }
    const [, epoch, url, node] = reply;
    return { acquired: false, engine: epoch === '' || url === '' ? null : { epoch: Number(epoch), url: url ?? '', node: node ?? '' } };
  }

  /** Extends the lease; false when it is no longer ours (it expired and someone may hold it). Throws when Redis cannot be reached. */
  async renew(): Promise<boolean> {
    const token = this.token;
    if (token === null) return false;
    const sentAt = performance.now();
    const renewed = (await RENEW.run(this.redis, [this.keys.lease], [token, this.options.ttlMs])) === 1;
    if (this.token !== token) return false; // dropped meanwhile
    if (!renewed) {
      this.drop();
      return false;
    }
    this.validUntil = sentAt + this.options.ttlMs - driftMs(this.options.ttlMs);
    return true;
  }

  /** Forgets the lease locally: from now on this process does not hold it. */
  drop(): void {
    this.token = null;
    this.validUntil = 0;
  }

  /** Gives the lease back (only if still ours), so that a replica takes over without waiting for the TTL. */
  async release(): Promise<void> {
    const token = this.token;
    this.drop();
    if (token !== null) await RELEASE.run(this.redis, [this.keys.lease, this.keys.engine], [token]);
  }
}
