/**
 * The schema builder: plugins, the request context and the scalars. Nothing else lives here; each
 * GraphQL type is defined in its own file, with its queries, mutations and subscriptions beside it.
 */
import SchemaBuilder from '@pothos/core';
import RelayPlugin from '@pothos/plugin-relay';
import { DateTimeResolver, SafeIntResolver } from 'graphql-scalars';
import type { DecisionRule } from '../domain/decision-table.js';
import type {
  DecisionBlocker,
  EngineEvent,
  Evacuation,
  EvacuationBlocker,
  EvacuationMove,
  EvacuationPlan,
  Host,
  HostCommand,
  Migration,
  MigrationAttempt,
  Millis,
  Transition,
  UserError,
  Vm,
  VmState,
} from '../domain/model.js';
import type { MigrationTable } from '../domain/table/table.js';
import type { Delivery } from './errors.js';

export interface FeedFilter {
  /** Cursor of the last item the subscriber saw: replay what came after it, then go live. */
  readonly after?: string | null;
  readonly vmId?: string | null;
  readonly hostId?: string | null;
}

/** The live streams subscriptions read; the server implements them over the table. */
export interface Feeds {
  transitions(filter: FeedFilter): AsyncIterable<Delivery<Transition>>;
  events(filter: FeedFilter): AsyncIterable<Delivery<EngineEvent>>;
  hostCommands(hostId: string): AsyncIterable<Delivery<HostOrder>>;
}

/**
 * What the schema reads and runs. In one process (and on the engine of a cluster) it is the
 * migration table itself. On a replica of a cluster (docs/contract.md §13) queries and mutations
 * are forwarded to the engine, so only what a subscription item reaches is read here, from a view
 * of the table kept from the Redis stream.
 */
export type TableView = Pick<
  MigrationTable,
  | 'epoch'
  | 'startedAt'
  | 'cursor'
  | 'host'
  | 'hosts'
  | 'vm'
  | 'vms'
  | 'vmIdsOnHost'
  | 'migration'
  | 'migrations'
  | 'entryOf'
  | 'vmsOnHost'
  | 'currentMigrationOf'
  | 'evacuation'
  | 'evacuations'
  | 'evacuationPlan'
  | 'evacuateHost'
  | 'cancelEvacuation'
  | 'eventLogAfter'
  | 'resolveCursor'
  | 'resolvePageCursor'
  | 'registerHost'
  | 'migrateVm'
  | 'cancelMigration'
  | 'reportVmStatuses'
  | 'reportHostStatus'
  | 'reportFenceResult'
  | 'removeHost'
>;

/**
 * An order as delivered: in clustered mode it carries the fencing token (epoch) of the engine
 * that issued it; in one process there is no other engine to fence, and it carries none.
 */
export type HostOrder = HostCommand & { readonly epoch?: number | null };

/** Who sends an operation, as the security layer established it (its credential's name; open mode). */
export interface Caller {
  readonly name: string;
  readonly open: boolean;
}

export interface Context {
  readonly table: TableView;
  readonly feeds: Feeds;
  /** Set by the security layer for every operation (HTTP, SSE and graphql-ws). */
  readonly principal?: Caller | null;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: {
    // graphql-js always parses an ID input to a string.
    ID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | Millis };
    SafeInt: { Input: number; Output: number };
  };
  // Object types by name, so type files refer to each other without importing each other.
  Objects: {
    Vm: Vm;
    VmState: VmState;
    Host: Host;
    Migration: Migration;
    MigrationAttempt: MigrationAttempt;
    DecisionBlocker: DecisionBlocker;
    Transition: Transition;
    Event: EngineEvent;
    DecisionRule: DecisionRule;
    Engine: TableView;
    HostCommand: HostOrder;
    UserError: UserError;
    Evacuation: Evacuation;
    EvacuationBlocker: EvacuationBlocker;
    EvacuationPlan: EvacuationPlan;
    EvacuationMove: EvacuationMove;
  };
  // Fields are non-null unless they say `nullable: true`: clients can rely on what is always there.
  DefaultFieldNullability: false;
  DefaultEdgesNullability: { list: false; items: false };
  DefaultNodeNullability: false;
}>({
  plugins: [RelayPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // Transit's ids are its own (VM UUIDs, host names), not Relay global ids.
    nodeQueryOptions: false,
    mutationInputArgOptions: { description: "The mutation's input; it is checked whole before anything changes." },
    nodesQueryOptions: false,
    edgesFieldOptions: { nullable: { list: false, items: false }, description: 'The items of this page, each with its cursor.' },
    nodeFieldOptions: { nullable: false, description: 'The item.' },
    cursorFieldOptions: { description: 'Pass it as `after` to read the items that follow this one.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    pageInfoTypeOptions: { description: 'Paging state of a connection (Relay cursor connections).' },
    hasNextPageFieldOptions: { description: 'More items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Items come before this page (always false: pages are read forward).' },
    startCursorFieldOptions: { description: 'Cursor of the first item of this page; null when the page is empty.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of this page; pass it as `after` for the next page.' },
  },
});

builder.addScalarType('DateTime', DateTimeResolver, {});
builder.addScalarType('SafeInt', SafeIntResolver, {});
