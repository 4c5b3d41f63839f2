/**
 * `Migration`: an entry of the migration table, in flight or recently decided, with the
 * `migration` and `migrations` queries and the `migrateVm` and `cancelMigration` mutations.
 */
import type { Migration, Vm } from '../domain/model.js';
import { VmStatus } from '../domain/vocabulary.js';
import type { MigrationTable } from '../domain/table/table.js';
import { builder } from './builder.js';
import { connection, pageCursor, pageSize, readPageCursor } from './cursors.js';
import { MigrationStateEnum, ReportedVmStatusEnum, VmLocationEnum, VmStatusEnum } from './enums.js';
import { ERRORS_DESCRIPTION, payloadOf } from './user-error.js';

/**
 * A migration's VM. A VM DOWN on no host is forgotten after its retention (docs/contract.md §11)
 * while its decided migrations may still be kept: it is then shown as it was, DOWN on no host.
 */
function vmOf(table: MigrationTable, migration: Migration): Vm {
  return table.vm(migration.vmId) ?? { id: migration.vmId, ordinal: 0, status: VmStatus.DOWN, hostId: null, location: null, migrationId: null };
}

builder.objectType('Migration', {
  description:
    'A live migration of a VM from a source host to a destination host: its entry in the migration table while in progress, then its outcome (kept for the history limit). A rerun keeps the `id` and raises `attempt`.',
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
      description: "Id of the current attempt's destination host; null while not known.",
      resolve: (m) => m.destination.hostId,
    }),
    destination: t.field({
      type: 'Host',
      nullable: true,
      description: "The current attempt's destination host; null while not known or not registered.",
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
    state: t.field({ type: MigrationStateEnum, description: 'In progress, or the outcome.', resolve: (m) => m.state }),
    stalled: t.exposeBoolean('stalled', {
      description: 'Frozen: a side is not responding, not registered or not known, so nothing can be decided.',
    }),
    stalledReason: t.exposeString('stalledReason', { nullable: true, description: 'Which host stalls it and why; null when not stalled.' }),
    cancelRequested: t.exposeBoolean('cancelRequested', { description: 'A cancel was asked; a failure then ends it CANCELLED, without a rerun.' }),
    attempt: t.exposeInt('attempt', { description: 'Number of the current (or last) attempt, from 1.' }),
    attempts: t.field({ type: ['MigrationAttempt'], description: 'Every attempt, oldest first.', resolve: (m) => m.attempts }),
    progress: t.exposeFloat('progress', { nullable: true, description: "Pre-copy progress of the current attempt, 0–100, as the source reports it; null before it does." }),
    startedAt: t.field({ type: 'DateTime', description: 'When the migration entered the table.', resolve: (m) => m.startedAt }),
    endedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the outcome was decided; null while in progress.', resolve: (m) => m.endedAt }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why it ended as it did, in words; null while in progress.' }),
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
    description: 'Migrations in flight and recently decided, filtered, a page at a time, in the order they entered the table.',
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
        description: "Where to; it must be UP, in the VM's cluster, and not its host. When not given Transit chooses, and reruns on another host after a failure.",
      }),
    }),
  },
  {
    description: "Starts a live migration: adds the VM's entry to the migration table and orders the source host agent to migrate it (`hostCommands`).",
    resolve: (_root, { input }, { table }) => payloadOf(table.migrateVm(input)),
  },
  {
    description: 'Result of `migrateVm`.',
    outputFields: (t) => ({
      migration: t.field({ type: 'Migration', nullable: true, description: 'The migration started; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);

builder.relayMutationField(
  'cancelMigration',
  {
    description: 'Input of `cancelMigration`: exactly one of `vmId` and `migrationId`.',
    inputFields: (t) => ({
      vmId: t.id({ description: 'The migrating VM.' }),
      migrationId: t.id({ description: 'The migration in progress.' }),
    }),
  },
  {
    description:
      'Asks the source to abort a migration in progress. It ends CANCELLED when the VM is seen still on the source (SUCCEEDED if it arrived anyway). Asking twice is not an error.',
    resolve: (_root, { input }, { table }) => payloadOf(table.cancelMigration(input)),
  },
  {
    description: 'Result of `cancelMigration`.',
    outputFields: (t) => ({
      migration: t.field({ type: 'Migration', nullable: true, description: 'The migration with its cancel asked; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);
