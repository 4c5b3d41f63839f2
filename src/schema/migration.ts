/**
 * `Migration`: an entry of the migration table, in flight or recently decided, with the
 * `migration` and `migrations` queries and the `migrateVm` and `cancelMigration` mutations.
 */
import type { Migration, Vm } from '../domain/model.js';
import { VmStatus } from '../domain/vocabulary.js';
import { builder, type TableView } from './builder.js';
import { connection, pageCursor, pageSize, readPageCursor } from './cursors.js';
import { MigrationPriorityEnum, MigrationStateEnum, ReportedVmStatusEnum, VmLocationEnum, VmStatusEnum } from './enums.js';
import { actorOf, ERRORS_DESCRIPTION, payloadOf } from './user-error.js';

/**
 * A migration's VM. A VM DOWN on no host is forgotten after its retention (docs/contract.md §11)
 * while its decided migrations may still be kept: it is then shown as it was, DOWN on no host.
 */
function vmOf(table: TableView, migration: Migration): Vm {
  return table.vm(migration.vmId) ?? { id: migration.vmId, ordinal: 0, status: VmStatus.DOWN, hostId: null, location: null, migrationId: null, memoryMiB: null };
}

builder.objectType('Migration', {
  description:
    'A live migration of a VM from a source host to a destination host: PENDING in the queue until the limits let it start, its entry in the migration table while in progress, then its outcome (kept for the history limit). A rerun keeps the `id` and raises `attempt`.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable id of the migration, kept across its attempts.' }),
    vmId: t.exposeID('vmId', { description: 'Id of the migrating VM.' }),
    vm: t.field({ type: 'Vm', description: 'The migrating VM, as it is now.', resolve: (m, _args, { table }) => vmOf(table, m) }),
    sourceHostId: t.field({
      type: 'ID',
      nullable: true,
      description: 'Id of the source host; null while not known (an entry rebuilt after a restart waits for its peer).',
      resolve: (m) => m.source.hostId,
    }),
    source: t.field({
      type: 'Host',
      nullable: true,
      description: 'The source host; null while not known or not registered.',
      resolve: (m, _args, { table }) => (m.source.hostId === null ? null : table.host(m.source.hostId)),
    }),
    destinationHostId: t.field({
      type: 'ID',
      nullable: true,
      description: "Id of the current attempt's destination host; null while not known, and while PENDING with an automatic destination (it is chosen when the attempt starts).",
      resolve: (m) => m.destination.hostId,
    }),
    destination: t.field({
      type: 'Host',
      nullable: true,
      description: "The current attempt's destination host; null while not known or not registered, and while PENDING with an automatic destination.",
      resolve: (m, _args, { table }) => (m.destination.hostId === null ? null : table.host(m.destination.hostId)),
    }),
    sourceReport: t.field({
      type: ReportedVmStatusEnum,
      nullable: true,
      description: 'The latest report of the source in the current attempt; null while not heard.',
      resolve: (m) => m.source.report,
    }),
    destinationReport: t.field({
      type: ReportedVmStatusEnum,
      nullable: true,
      description: 'The latest report of the destination in the current attempt; null while not heard.',
      resolve: (m) => m.destination.report,
    }),
    vmStatus: t.field({ type: VmStatusEnum, description: "The VM's status that the pair of reports gives (MIGRATING_FROM while in progress).", resolve: (m) => m.vmStatus }),
    location: t.field({
      type: VmLocationEnum,
      nullable: true,
      description: 'Where the VM runs relative to the migration; null when it runs nowhere (VM_DOWN).',
      resolve: (m) => m.location,
    }),
    state: t.field({ type: MigrationStateEnum, description: 'Pending, in progress, or the outcome.', resolve: (m) => m.state }),
    priority: t.field({
      type: MigrationPriorityEnum,
      description: 'Evacuations start before every other pending migration; others start in the order they were accepted.',
      resolve: (m) => m.priority,
    }),
    waitingReason: t.exposeString('waitingReason', {
      nullable: true,
      description: 'What a PENDING migration waits for, in words ("host-a has 2 of 2 outgoing migrations", "no eligible destination has a free incoming slot", "cluster c1 has 5 of 5 migrations in flight"); null unless PENDING.',
    }),
    abortReason: t.exposeString('abortReason', {
      nullable: true,
      description:
        'Why Transit ordered the source to abort the current (or last) attempt: a progress or completion deadline passed; null when it did not. The outcome still comes from both hosts\' reports: FAILED (not rerun) when the VM stays on the source, SUCCEEDED if it arrived anyway.',
    }),
    blockedBy: t.field({
      type: ['DecisionBlocker'],
      description:
        'For a migration in flight, every reason that holds its decision back right now. Empty when the pair of reports simply says "in progress" (seed rows 4–8) with nothing else pending, while PENDING (see `waitingReason`), and once decided.',
      resolve: (m) => m.blockedBy,
    }),
    stalled: t.exposeBoolean('stalled', {
      description: 'Frozen: a side is not responding, not registered or not known, so nothing can be decided.',
    }),
    stalledReason: t.exposeString('stalledReason', { nullable: true, description: 'Which host stalls it and why; null when not stalled.' }),
    cancelRequested: t.exposeBoolean('cancelRequested', { description: 'A cancel was asked; a failure then ends it CANCELLED, without a rerun.' }),
    attempt: t.exposeInt('attempt', { description: 'Number of the current (or last) attempt, from 1.' }),
    attempts: t.field({
      type: ['MigrationAttempt'],
      description: 'Every attempt that left the queue, oldest first (a PENDING migration has not started its current `attempt` yet).',
      resolve: (m) => m.attempts,
    }),
    progress: t.exposeFloat('progress', { nullable: true, description: "Pre-copy progress of the current attempt, 0–100, as the source reports it; null before it does." }),
    startedAt: t.field({
      type: 'DateTime',
      description: 'When the migration was accepted (or found in a report); each attempt says when it left the queue.',
      resolve: (m) => m.startedAt,
    }),
    endedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the outcome was decided; null while pending or in progress.', resolve: (m) => m.endedAt }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it ended as it did, in words; null while pending or in progress.' }),
  }),
});

const MigrationConnection = builder.connectionObject(
  { type: 'Migration', name: 'MigrationConnection', description: 'A page of migrations, in the order they entered the table.' },
  { name: 'MigrationEdge', description: 'One migration of a page, with its cursor.' },
);

builder.queryFields((t) => ({
  migration: t.field({
    type: 'Migration',
    nullable: true,
    description: 'The migration with this id, in flight or kept in the history; null otherwise.',
    args: { id: t.arg.id({ required: true, description: 'Id of the migration.' }) },
    resolve: (_root, { id }, { table }) => table.migration(id),
  }),
  migrations: t.field({
    type: MigrationConnection,
    description: 'Migrations pending, in flight and recently decided, filtered, a page at a time, in the order they were accepted.',
    args: {
      state: t.arg({ type: MigrationStateEnum, description: 'Only migrations in this state.' }),
      vmId: t.arg.id({ description: 'Only migrations of this VM.' }),
      hostId: t.arg.id({ description: 'Only migrations from or to this host (any attempt).' }),
      first: t.arg.int({ description: 'Page size: at most 1000, 50 when not given.' }),
      after: t.arg.string({ description: 'Cursor of the last migration of the previous page (`pageInfo.endCursor`).' }),
    },
    resolve: (_root, args, { table }) =>
      connection(table.migrations(args, readPageCursor(table, 'migrations', args.after), pageSize(args.first)), (m) => pageCursor(table, m.ordinal)),
  }),
}));

builder.relayMutationField(
  'migrateVm',
  {
    description: 'Input of `migrateVm`.',
    inputFields: (t) => ({
      vmId: t.id({ required: true, description: 'The VM to migrate; it must be UP on a responsive host (UP or MAINTENANCE).' }),
      destinationHostId: t.id({
        description:
          "Where to; it must be UP, in the VM's cluster, and not its host. When not given Transit chooses when the attempt starts (among eligible hosts below their incoming limit), and reruns on another host after a failure.",
      }),
    }),
  },
  {
    description:
      "Accepts a live migration. When the limits allow (outgoing and incoming per host, per cluster), it starts at once: the VM's entry joins the migration table and the source host agent is ordered to migrate it (`hostCommands`). Otherwise it waits PENDING, with `waitingReason`, and starts as soon as a slot frees (MIGRATION_QUEUED). Refused with NO_ELIGIBLE_HOST only when no host could ever take the VM.",
    resolve: (_root, { input }, context) => payloadOf(context.table.migrateVm(input, actorOf(context))),
  },
  {
    description: 'Result of `migrateVm`.',
    outputFields: (t) => ({
      migration: t.field({
        type: 'Migration',
        nullable: true,
        description: 'The migration accepted: IN_PROGRESS when it started, PENDING when it waits; null when refused.',
        resolve: (payload) => payload.result,
      }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);

builder.relayMutationField(
  'cancelMigration',
  {
    description: 'Input of `cancelMigration`: exactly one of `vmId` and `migrationId`.',
    inputFields: (t) => ({
      vmId: t.id({ description: 'The VM whose current migration (pending or in progress) to cancel.' }),
      migrationId: t.id({ description: 'The migration, pending or in progress.' }),
    }),
  },
  {
    description:
      'Cancels a migration that has not decided. A PENDING one ends CANCELLED at once (no order was ever sent). For one in progress the source is ordered to abort: it ends CANCELLED when the VM is seen still on the source (SUCCEEDED if it arrived anyway). Asking twice is not an error.',
    resolve: (_root, { input }, context) => payloadOf(context.table.cancelMigration(input, actorOf(context))),
  },
  {
    description: 'Result of `cancelMigration`.',
    outputFields: (t) => ({
      migration: t.field({ type: 'Migration', nullable: true, description: 'The migration with its cancel asked; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);
