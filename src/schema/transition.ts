/** `Transition`: one change to a VM, a migration entry or a host, with the `transitions` subscription. */
import { builder } from './builder.js';
import { logCursor } from './cursors.js';
import { HostStatusEnum, TransitionCauseEnum } from './enums.js';
import { deliver } from './errors.js';

builder.objectType('Transition', {
  description:
    'One change to a migration entry, a VM or a host. Cursors strictly increase; `migration` is a snapshot, so replaying old transitions never shows today\'s state.',
  fields: (t) => ({
    cursor: t.string({
      description: 'Position in the engine run (`<epoch>:<sequence>`); pass the last one seen as `after` to resume.',
      resolve: (tr, _args, { table }) => logCursor(table, tr.seq),
    }),
    at: t.field({ type: 'DateTime', description: "When it happened, by the engine's clock.", resolve: (tr) => tr.at }),
    cause: t.field({ type: TransitionCauseEnum, description: 'Why it happened.', resolve: (tr) => tr.cause }),
    actor: t.exposeString('actor', {
      description:
        'Who caused it: the name of the credential that sent the command (`open` in open mode), including what the scheduler, a rerun or a fence did while applying it; `engine` for what the engine did by itself (timeouts, queue starts on a tick).',
    }),
    vmId: t.exposeID('vmId', { nullable: true, description: 'The VM that changed; null for a change of a host.' }),
    hostId: t.exposeID('hostId', { nullable: true, description: 'The host the change is about or came from.' }),
    hostIds: t.exposeIDList('hostIds', { description: 'Every host the change concerns (what `hostId` filters on).' }),
    migration: t.field({
      type: 'Migration',
      nullable: true,
      description: 'The migration entry right after this transition (a snapshot); null when the VM was not migrating.',
      resolve: (tr) => tr.migration,
    }),
    from: t.field({ type: 'VmState', nullable: true, description: "The VM's state before; null for a change of a host.", resolve: (tr) => tr.from }),
    to: t.field({ type: 'VmState', nullable: true, description: "The VM's state after; null for a change of a host.", resolve: (tr) => tr.to }),
    hostStatusFrom: t.field({
      type: HostStatusEnum,
      nullable: true,
      description: "For a change of a host: its status before; null when it just registered or for a VM's change.",
      resolve: (tr) => tr.hostStatusFrom,
    }),
    hostStatusTo: t.field({
      type: HostStatusEnum,
      nullable: true,
      description: "For a change of a host: its status after; null for a VM's change, or when the host was removed.",
      resolve: (tr) => tr.hostStatusTo,
    }),
  }),
});

builder.subscriptionField('transitions', (t) =>
  t.field({
    type: 'Transition',
    description:
      'Every transition from now on, or, with `after`, every transition after that cursor and then the live ones, with no gap and no duplicate. Ends with RESYNC_REQUIRED when the cursor is of another engine run or older than the kept history, and with SUBSCRIBER_TOO_SLOW when the subscriber falls too far behind (resume from the last cursor received).',
    args: {
      after: t.arg.string({ description: 'Cursor of the last transition seen.' }),
      vmId: t.arg.id({ description: 'Only transitions of this VM.' }),
      hostId: t.arg.id({ description: 'Only transitions concerning this host.' }),
    },
    subscribe: (_root, args, { feeds }) => feeds.transitions(args),
    resolve: deliver,
  }),
);
