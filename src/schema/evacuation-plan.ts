/** `EvacuationPlan`: the dry run of an evacuation, with the `evacuationPlan` query. */
import { builder } from './builder.js';
import { hostOf } from './evacuation.js';

builder.objectType('EvacuationPlan', {
  description:
    'What evacuating a host would do if it started now, changing nothing: for each VM UP on it, the destination it would get (§4 order among eligible hosts, counting the earlier moves of the plan as load, limits ignored), or why it cannot move.',
  fields: (t) => ({
    hostId: t.exposeID('hostId', { description: 'Id of the host.' }),
    host: t.field({ type: 'Host', description: 'The host, as it is now.', resolve: (p, _args, { table }) => hostOf(table, p.hostId) }),
    moves: t.field({ type: ['EvacuationMove'], description: 'The VMs that would move, and where, in the order Transit first heard of them.', resolve: (p) => p.moves }),
    blocked: t.field({ type: ['EvacuationBlocker'], description: 'The VMs that could not move, and why.', resolve: (p) => p.blocked }),
  }),
});

builder.queryField('evacuationPlan', (t) =>
  t.field({
    type: 'EvacuationPlan',
    nullable: true,
    description: 'A dry run of `evacuateHost`: where each VM UP on the host would go, or why it could not. Changes nothing. Null when the host is not known.',
    args: { hostId: t.arg.id({ required: true, description: 'Id of the host.' }) },
    resolve: (_root, { hostId }, { table }) => table.evacuationPlan(hostId),
  }),
);
