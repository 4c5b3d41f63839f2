/**
 * `Evacuation`: moving every VM off a host for maintenance (docs/contract.md §9), with the
 * `evacuation` and `evacuations` queries and the `evacuateHost` and `cancelEvacuation` mutations.
 */
import type { Host, Migration } from '../domain/model.js';
import { builder, type TableView } from './builder.js';
import { connection, pageCursor, pageSize, readPageCursor } from './cursors.js';
import { EvacuationStateEnum } from './enums.js';
import { actorOf, ERRORS_DESCRIPTION, payloadOf } from './user-error.js';

/** The evacuated host: a host with an evacuation stays known. */
export function hostOf(table: TableView, hostId: string): Host {
  const host = table.host(hostId);
  if (host === undefined) throw new Error(`host ${hostId} is not known to the table`);
  return host;
}

builder.objectType('Evacuation', {
  description:
    'Moving every VM off a host for maintenance: the host is PREPARING_FOR_MAINTENANCE while its VMs migrate away (priority EVACUATION), then MAINTENANCE once it runs no VM. While it runs, the counts and blockers are those of now; once ended, those it ended with.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable id of the evacuation.' }),
    hostId: t.exposeID('hostId', { description: 'Id of the evacuated host.' }),
    host: t.field({ type: 'Host', description: 'The evacuated host, as it is now.', resolve: (e, _args, { table }) => hostOf(table, e.hostId) }),
    state: t.field({ type: EvacuationStateEnum, description: 'Running, or how it ended.', resolve: (e) => e.state }),
    startedAt: t.field({ type: 'DateTime', description: 'When it began.', resolve: (e) => e.startedAt }),
    endedAt: t.field({ type: 'DateTime', nullable: true, description: 'When it ended; null while it runs.', resolve: (e) => e.endedAt }),
    total: t.exposeInt('total', { description: 'Every VM that joined it: those on the host when it began, and each that arrived since.' }),
    moved: t.exposeInt('moved', { description: 'VMs whose migration SUCCEEDED.' }),
    remaining: t.exposeInt('remaining', { description: 'VMs still on the host (when it ended, for an ended one).' }),
    failed: t.exposeInt('failed', {
      description: 'VMs it will not move: no host was eligible, or every migration of theirs ended without moving them (FAILED, CANCELLED, VM_DOWN).',
    }),
    migrations: t.field({
      type: ['Migration'],
      description: 'Its migrations, in the order they joined it (those already leaving the host when it began included), as far as the history keeps them.',
      resolve: (e, _args, { table }) => e.migrationIds.map((id) => table.migration(id)).filter((m): m is Migration => m !== undefined),
    }),
    blockers: t.field({
      type: ['EvacuationBlocker'],
      description:
        'What holds it back, each VM with its reason: while it runs, the VMs it will not move, those whose host does not answer, and those whose migration is stalled; once FAILED, every VM left on the host and why.',
      resolve: (e) => e.blockers,
    }),
  }),
});

const EvacuationConnection = builder.connectionObject(
  { type: 'Evacuation', name: 'EvacuationConnection', description: 'A page of evacuations, newest first.' },
  { name: 'EvacuationEdge', description: 'One evacuation of a page, with its cursor.' },
);

builder.queryFields((t) => ({
  evacuation: t.field({
    type: 'Evacuation',
    nullable: true,
    description: 'The evacuation with this id, running or kept in the history; null otherwise (an engine restart forgets evacuations).',
    args: { id: t.arg.id({ required: true, description: 'Id of the evacuation.' }) },
    resolve: (_root, { id }, { table }) => table.evacuation(id),
  }),
  evacuations: t.field({
    type: EvacuationConnection,
    description: 'Evacuations, running and recently ended, filtered, a page at a time, newest first.',
    args: {
      hostId: t.arg.id({ description: 'Only evacuations of this host.' }),
      state: t.arg({ type: EvacuationStateEnum, description: 'Only evacuations in this state.' }),
      first: t.arg.int({ description: 'Page size: at most 1000, 50 when not given.' }),
      after: t.arg.string({ description: 'Cursor of the last evacuation of the previous page (`pageInfo.endCursor`).' }),
    },
    resolve: (_root, args, { table }) =>
      connection(table.evacuations(args, readPageCursor(table, 'evacuations', args.after), pageSize(args.first)), (e) => pageCursor(table, e.ordinal)),
  }),
}));

builder.relayMutationField(
  'evacuateHost',
  {
    description: 'Input of `evacuateHost`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'The host to evacuate: UP, PREPARING_FOR_MAINTENANCE or MAINTENANCE.' }),
    }),
  },
  {
    description:
      'Moves every VM off a host for maintenance: the host becomes PREPARING_FOR_MAINTENANCE (never a destination), every VM UP on it gets a migration with an automatic destination and priority EVACUATION (a VM no host can take is a blocker at once), migrations already leaving it join, and so does any VM that arrives. It ends COMPLETED (the host is MAINTENANCE) once the host runs no VM, or FAILED when nothing is left moving and VMs remain. Asked again while one runs, it returns the running one, unchanged.',
    resolve: (_root, { input }, context) => payloadOf(context.table.evacuateHost(input, actorOf(context))),
  },
  {
    description: 'Result of `evacuateHost`.',
    outputFields: (t) => ({
      evacuation: t.field({ type: 'Evacuation', nullable: true, description: 'The evacuation (the running one, if one ran already); null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);

builder.relayMutationField(
  'cancelEvacuation',
  {
    description: 'Input of `cancelEvacuation`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'The evacuated host.' }),
    }),
  },
  {
    description:
      "Cancels the host's running evacuation: its pending migrations are CANCELLED, those in flight go on, the host returns to UP, the evacuation is CANCELLED. On a host whose latest evacuation FAILED, the host returns to UP and the evacuation stays FAILED. Otherwise NOT_EVACUATING. `reportHostStatus(UP)` does the same.",
    resolve: (_root, { input }, context) => payloadOf(context.table.cancelEvacuation(input, actorOf(context))),
  },
  {
    description: 'Result of `cancelEvacuation`.',
    outputFields: (t) => ({
      evacuation: t.field({ type: 'Evacuation', nullable: true, description: 'The evacuation cancelled (or the failed one whose host was let go); null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);
