/** `DecisionBlocker`: one reason a migration in flight is not decided yet (docs/contract.md §10). */
import { builder } from './builder.js';
import { DecisionBlockerCodeEnum } from './enums.js';

builder.objectType('DecisionBlocker', {
  description:
    "One reason a migration in flight is not decided right now. It comes from the same evaluation that decides (the decision table and the main idea's conditions), so it never disagrees with the decision.",
  fields: (t) => ({
    code: t.field({ type: DecisionBlockerCodeEnum, description: 'Which condition holds the decision back.', resolve: (b) => b.code }),
    hostId: t.exposeID('hostId', { nullable: true, description: 'The host the condition is about; null when none is known.' }),
    message: t.exposeString('message', { description: 'The condition, in words, for a person.' }),
  }),
});
