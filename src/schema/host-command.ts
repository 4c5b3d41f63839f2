/** `HostCommand`: an order to a host agent, with the `hostCommands` subscription. */
import { builder } from './builder.js';
import { HostCommandKindEnum } from './enums.js';
import { deliver } from './errors.js';

builder.objectType('HostCommand', {
  description: 'An order to a host agent, always the source of the migration. Idempotent by (`migrationId`, `attempt`, `kind`): an order may arrive twice.',
  fields: (t) => ({
    kind: t.field({ type: HostCommandKindEnum, description: 'Migrate or cancel.', resolve: (c) => c.kind }),
    hostId: t.exposeID('hostId', { description: 'The host that must carry it out: the source.' }),
    migrationId: t.exposeID('migrationId', { description: 'The migration it is for.' }),
    vmId: t.exposeID('vmId', { description: 'The VM to migrate, or whose migration to cancel.' }),
    destinationHostId: t.exposeID('destinationHostId', { nullable: true, description: "Where to migrate the VM (this attempt's destination)." }),
    attempt: t.exposeInt('attempt', { description: 'The attempt it is for.' }),
    issuedAt: t.field({ type: 'DateTime', description: 'When it was ordered (for an order still pending: when its attempt started).', resolve: (c) => c.issuedAt }),
    epoch: t.field({
      type: 'SafeInt',
      nullable: true,
      description:
        'Clustered mode: the fencing token of the engine that issued it (a new engine takes a higher one). An agent ignores an order whose epoch is lower than the highest it has seen: it comes from an engine that lost its lease. Null in one process, where there is no other engine to fence.',
      resolve: (c) => c.epoch ?? null,
    }),
  }),
});

builder.subscriptionField('hostCommands', (t) =>
  t.field({
    type: 'HostCommand',
    description:
      "The orders for a host agent: first every order still pending for it (the migrate order of each migration in progress from it, and the cancel order when one was asked or a deadline aborted it; a pending migration has no order yet), then new ones as they are issued. An agent that reconnects misses nothing. Ends with SUBSCRIBER_TOO_SLOW if the agent stops reading; subscribe again.",
    args: { hostId: t.arg.id({ required: true, description: 'The host agent’s host.' }) },
    subscribe: (_root, { hostId }, { feeds }) => feeds.hostCommands(hostId),
    resolve: deliver,
  }),
);
