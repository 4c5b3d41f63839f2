/**
 * One entry of the change stream: what one command of the engine changed (its ChangeSet), with
 * what a reader elsewhere needs besides: the hosts the change names, as they are now (a replica
 * resolves `Migration.source` and the like from them), and the orders now pending for every host
 * whose orders may have changed (a host agent that subscribes on a replica gets them first).
 *
 * Entry ids are `<epoch>-<n>`: `n` counts the epoch's entries from 0, the entry that opens the
 * epoch (written by the takeover script, lease.ts). A reader that sees `n` jump knows it missed
 * entries (the stream was trimmed past it), and one that sees the epoch change knows a new engine
 * run began: in both cases its subscribers must resync. Within an entry, `f`..`l` are the
 * sequence numbers of its transitions and events (the second part of their cursors).
 */
import type { EngineEvent, Host, HostCommand, Millis, Transition } from '../domain/model.js';
import type { ChangeSet } from '../domain/table/table.js';
import type { HostOrder } from '../schema/builder.js';

/** An order as the stream carries it: with the epoch of the engine that issued it. */
export type FencedOrder = HostCommand & { readonly epoch: number };

export interface ChangeEntry {
  /** The engine's epoch. */
  readonly e: number;
  /** Position of the entry in its epoch: 0 opens it, then 1, 2, ... without a gap. */
  readonly n: number;
  /** First and last sequence number of its transitions and events (`f > l`: none). */
  readonly f: number;
  readonly l: number;
  /** When the engine appended it (its wall clock, ms): readers measure their lag from it. */
  readonly at: Millis;
  /** The entry that opens the epoch. */
  readonly start?: boolean;
  readonly t?: readonly Transition[];
  readonly v?: readonly EngineEvent[];
  readonly c?: readonly FencedOrder[];
  /** The hosts the change names, as they are after it. */
  readonly h?: readonly Host[];
  /** For each host whose pending orders may have changed: all of them now (empty: none). */
  readonly p?: readonly (readonly [string, readonly FencedOrder[]])[];
}

export interface EntryId {
  readonly epoch: number;
  readonly n: number;
}

export const formatEntryId = ({ epoch, n }: EntryId): string => `${epoch}-${n}`;

export function parseEntryId(id: string): EntryId | null {
  const match = /^(\d+)-(\d+)$/.exec(id);
  if (match === null) return null;
  return { epoch: Number(match[1]), n: Number(match[2]) };
}

/** The ids of every host the change names: of its transitions, events, orders and every attempt's destination. */
export function hostsNamed(changes: ChangeSet): Set<string> {
  const hosts = new Set<string>();
  for (const t of changes.transitions) {
    for (const h of t.hostIds) hosts.add(h);
    if (t.migration !== null) for (const a of t.migration.attempts) if (a.destinationHostId !== null) hosts.add(a.destinationHostId);
  }
  for (const e of changes.events) for (const h of e.hostIds) hosts.add(h);
  for (const c of changes.commands) {
    hosts.add(c.hostId);
    if (c.destinationHostId !== null) hosts.add(c.destinationHostId);
  }
  return hosts;
}

/** The hosts whose pending orders the change may have changed: the sources of the migrations it touched. */
export function ordersTouched(changes: ChangeSet): Set<string> {
  const hosts = new Set<string>();
  for (const t of changes.transitions) if (t.migration?.source.hostId != null) hosts.add(t.migration.source.hostId);
  for (const c of changes.commands) hosts.add(c.hostId);
  return hosts;
}

const fenced = (epoch: number) => (order: HostCommand): FencedOrder => ({ ...order, epoch });

export interface EncodeInput {
  readonly epoch: number;
  readonly n: number;
  readonly changes: ChangeSet;
  readonly hosts: readonly Host[];
  readonly pending: ReadonlyMap<string, readonly HostCommand[]>;
  /** The table's latest sequence number after the change. */
  readonly latestSeq: number;
  readonly at: Millis;
}

export function encodeEntry({ epoch, n, changes, hosts, pending, latestSeq, at }: EncodeInput): string {
  let f = latestSeq + 1;
  for (const item of changes.transitions) f = Math.min(f, item.seq);
  for (const item of changes.events) f = Math.min(f, item.seq);
  const entry: ChangeEntry = {
    e: epoch,
    n,
    f,
    l: latestSeq,
    at,
    t: changes.transitions,
    v: changes.events,
    c: changes.commands.map(fenced(epoch)),
    h: hosts,
    p: [...pending].map(([host, orders]) => [host, orders.map(fenced(epoch))] as const),
  };
  return JSON.stringify(entry);
}

/** The entry as read back; throws on an entry this version of Transit did not write. */
export function decodeEntry(data: string): ChangeEntry {
  const entry = JSON.parse(data) as ChangeEntry;
  if (typeof entry.e !== 'number' || typeof entry.n !== 'number' || typeof entry.l !== 'number') throw new Error('not a Transit change entry');
  return entry;
}

/** The orders an entry carries, as subscribers receive them. */
export const ordersOf = (entry: ChangeEntry): readonly HostOrder[] => entry.c ?? [];
