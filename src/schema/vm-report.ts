/** `VmReportInput` and `reportVmStatuses`: a host agent's batch of reports about its VMs. */
import { builder } from './builder.js';
import { ReportedVmStatusEnum } from './enums.js';
import { actorOf, ERRORS_DESCRIPTION, payloadOf } from './user-error.js';

const VmReportInput = builder.inputType('VmReportInput', {
  description: 'What one host says about one VM.',
  fields: (t) => ({
    vmId: t.id({ required: true, description: 'Id of the VM.' }),
    status: t.field({ type: ReportedVmStatusEnum, required: true, description: 'What the host sees.' }),
    progress: t.float({ description: 'Pre-copy progress, 0–100; only with MIGRATING_FROM.' }),
    exitReason: t.string({ description: 'Why the VM stopped (`NORMAL`, `MIGRATION_SUCCEEDED`, `MIGRATION_FAILED`, `ERROR`, ...); only with DOWN.' }),
    peerHostId: t.id({ description: 'The other side of the migration; only with MIGRATING_FROM or MIGRATING_TO.' }),
    memoryMiB: t.int({
      description:
        "The VM's memory, in MiB (with any status). A migration's completion deadline is the completion timeout per GiB times this (at least 2 GiB, as when it is not given).",
    }),
  }),
});

builder.relayMutationField(
  'reportVmStatuses',
  {
    description: 'Input of `reportVmStatuses`.',
    inputFields: (t) => ({
      hostId: t.id({ required: true, description: 'The reporting host; registered (UP) with its first report.' }),
      vms: t.field({ type: [VmReportInput], required: true, description: 'One report per VM; a VM appears at most once.' }),
      full: t.boolean({ description: 'The batch lists every VM on the host: a VM it does not list is DOWN there.' }),
      sequence: t.field({
        type: 'SafeInt',
        description:
          'Per-host sequence number: a batch not above the last one accepted from the same boot (by less than 2^32; further below starts the count over) is stale and ignored whole.',
      }),
      bootId: t.id({ description: 'Identifies the host agent boot; a new one restarts the sequence, and the batches of the boots it replaced are stale.' }),
      cluster: t.string({ description: "The host's cluster, used when this report registers it; must match for a known host." }),
    }),
  },
  {
    description:
      "Applies a host's reports about its VMs: each VM's status and location follow, and migrations are decided from both sides' reports (the decision table). Refused whole, changing nothing, when any report is invalid or the batch is stale.",
    resolve: (_root, { input }, context) => payloadOf(context.table.reportVmStatuses(input, actorOf(context))),
  },
  {
    description: 'Result of `reportVmStatuses`.',
    outputFields: (t) => ({
      host: t.field({ type: 'Host', nullable: true, description: 'The reporting host after the batch; null when refused.', resolve: (payload) => payload.result }),
      errors: t.field({ type: ['UserError'], description: ERRORS_DESCRIPTION, resolve: (payload) => payload.errors }),
    }),
  },
);
