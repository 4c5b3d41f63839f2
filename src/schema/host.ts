/**
 * `Host`: a hypervisor running a host agent, with the `host` and `hosts` queries and the mutations
 * by which hosts and operators change a host (`registerHost`, `reportHostStatus`, `reportFenceResult`).
 */
import { builder } from './builder.js';
import { FenceMethodEnum, HostStatusEnum } from './enums.js';
import { actorOf, ERRORS_DESCRIPTION, payloadOf } from './user-error.js';

builder.objectType('Host', {
  description: 'A hypervisor running a host agent (oVirt calls it VDSM). Hosts register themselves with their first report.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Stable id of the host, e.g. `host-a`.' }),
    cluster: t.exposeString('cluster', { description: 'The cluster it belongs to (`default` unless named); VMs migrate within a cluster.' }),
    status: t.field({ type: HostStatusEnum, description: 'Its state as Transit sees it.', resolve: (host) => host.status }),
    lastReportAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last sent an accepted report; null before its first.',
      resolve: (host) => host.lastReportAt,
    }),
    vms: t.field({
      type: ['Vm'],
      description: 'The VMs running on it (as the source, for those migrating away), in the order Transit first heard of them.',
      resolve: (host, _args, { table }) => table.vmsOnHost(host.id),
    }),
  }),
});

builder.queryFields((t) => ({
  host: t.field({
    type: 'Host',
    nullable: true,
    description: 'The host with this id; null when it has not registered.',
    args: { id: t.arg.id({ required: true, description: 'Id of the host.' }) },
    resolve: (_root, { id }, { table }) => table.host(id),
  }),
  hosts: t.field({
    type: ['Host'],
    description: 'Every host, filtered, ordered by id.',
    args: {
      cluster: t.arg.string({ description: 'Only hosts of this cluster.' }),
      status: t.arg({ type: HostStatusEnum, description: 'Only hosts with this status.' }),
    },
    resolve: (_root, args, { table }) => table.hosts(args),
  }),
}));

builder.relayMutationField(
  'registerHost',
  {
    description: 'Input of `registerHost`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'Id of the host.' }),
      cluster: t.string({
        description: 'Its cluster; `default` for a new host when not given. Naming another cluster moves a known host, unless it is a side of a migration in flight (CLUSTER_MISMATCH).',
      }),
    }),
  },
  {
    description: 'Registers a host (UP), or moves a known host to another cluster. A host also registers itself with its first report.',
    resolve: (_root, { input }, context) => payloadOf(context.table.registerHost(input, actorOf(context))),
  },
  {
    description: 'Result of `registerHost`.',
    outputFields: (t) => ({
      host: t.field({ type: 'Host', nullable: true, description: 'The host as registered; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);

builder.relayMutationField(
  'reportHostStatus',
  {
    description: 'Input of `reportHostStatus`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'Id of the host.' }),
      status: t.field({
        type: HostStatusEnum,
        required: true,
        description: 'UP or MAINTENANCE (operator), or NON_RESPONSIVE (from any status). REBOOTING is set only by a successful fence.',
      }),
    }),
  },
  {
    description:
      'Sets a host status: an operator puts a host into MAINTENANCE and back to UP, or reports it NON_RESPONSIVE. A NON_RESPONSIVE or REBOOTING host becomes UP only by reporting.',
    resolve: (_root, { input }, context) => payloadOf(context.table.reportHostStatus(input, actorOf(context))),
  },
  {
    description: 'Result of `reportHostStatus`.',
    outputFields: (t) => ({
      host: t.field({ type: 'Host', nullable: true, description: 'The host with its new status; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);

builder.relayMutationField(
  'reportFenceResult',
  {
    description: 'Input of `reportFenceResult`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'Id of the fenced host; it must be NON_RESPONSIVE.' }),
      succeeded: t.boolean({ required: true, description: 'The host was fenced (powered off or rebooted).' }),
      method: t.field({ type: FenceMethodEnum, required: true, description: 'How it was fenced.' }),
      message: t.string({ description: 'Free text for the event log, e.g. what the fencing agent said.' }),
    }),
  },
  {
    description:
      "Reports the result of fencing a NON_RESPONSIVE host. On success the host is REBOOTING, its side of each migration is DOWN (trustworthy) and each is decided again, and its other VMs are DOWN. On failure only an event is logged.",
    resolve: (_root, { input }, context) => payloadOf(context.table.reportFenceResult(input, actorOf(context))),
  },
  {
    description: 'Result of `reportFenceResult`.',
    outputFields: (t) => ({
      host: t.field({ type: 'Host', nullable: true, description: 'The fenced host; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);

builder.relayMutationField(
  'removeHost',
  {
    description: 'Input of `removeHost`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'Id of the host; it must run no VM and be no side of a migration in flight.' }),
    }),
  },
  {
    description:
      'Forgets a host that runs no VM and is no side of a migration in flight (a decommissioned host; fence one that stopped answering first, so that its VMs are DOWN). Its history stays. It registers afresh with its next report.',
    resolve: (_root, { input }, context) => payloadOf(context.table.removeHost(input, actorOf(context))),
  },
  {
    description: 'Result of `removeHost`.',
    outputFields: (t) => ({
      hostId: t.id({ nullable: true, description: 'The host removed; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);
