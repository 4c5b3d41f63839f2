/** `Vm`: a virtual machine as Transit knows it, with the `vm` and `vms` queries. */
import { builder } from './builder.js';
import { connection, pageCursor, pageSize, readPageCursor } from './cursors.js';
import { VmLocationEnum, VmStatusEnum } from './enums.js';

builder.objectType('Vm', {
  description: 'A virtual machine, known to Transit once a host has reported it or a migration names it.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable id of the VM (in practice a UUID).' }),
    status: t.field({ type: VmStatusEnum, description: "The VM's status, derived from its hosts' reports.", resolve: (vm) => vm.status }),
    location: t.field({
      type: VmLocationEnum,
      nullable: true,
      description: 'Where it runs relative to its migration, while it migrates; null otherwise.',
      resolve: (vm) => vm.location,
    }),
    hostId: t.exposeID('hostId', { nullable: true, description: 'Id of the host it runs on (the source during a migration); null when DOWN.' }),
    host: t.field({
      type: 'Host',
      nullable: true,
      description: 'The host it runs on: the source during a migration; null when DOWN or when that host never registered.',
      resolve: (vm, _args, { table }) => (vm.hostId === null ? null : table.host(vm.hostId)),
    }),
    migration: t.field({
      type: 'Migration',
      nullable: true,
      description: 'Its current migration: PENDING in the queue or IN_PROGRESS in the migration table; null when it has none.',
      resolve: (vm, _args, { table }) => table.currentMigrationOf(vm.id),
    }),
    memoryMiB: t.exposeInt('memoryMiB', {
      nullable: true,
      description: 'Its memory, in MiB, as a host last reported it; sizes the completion deadline of its migrations. Null while none did.',
    }),
  }),
});

const VmConnection = builder.connectionObject(
  { type: 'Vm', name: 'VmConnection', description: 'A page of VMs, in the order Transit first heard of them.' },
  { name: 'VmEdge', description: 'One VM of a page, with its cursor.' },
);

builder.queryFields((t) => ({
  vm: t.field({
    type: 'Vm',
    nullable: true,
    description: 'The VM with this id; null when Transit does not know it.',
    args: { id: t.arg.id({ required: true, description: 'Id of the VM.' }) },
    resolve: (_root, { id }, { table }) => table.vm(id),
  }),
  vms: t.field({
    type: VmConnection,
    description: 'VMs, filtered, a page at a time, in the order Transit first heard of them.',
    args: {
      status: t.arg({ type: VmStatusEnum, description: 'Only VMs with this status.' }),
      hostId: t.arg.id({ description: 'Only VMs running on this host (the source, for a migrating VM).' }),
      first: t.arg.int({ description: 'Page size: at most 1000, 50 when not given.' }),
      after: t.arg.string({ description: 'Cursor of the last VM of the previous page (`pageInfo.endCursor`).' }),
    },
    resolve: (_root, args, { table }) =>
      connection(table.vms(args, readPageCursor(table, 'vms', args.after), pageSize(args.first)), (vm) => pageCursor(table, vm.ordinal)),
  }),
}));
