/**
 * `UserError`: an expected refusal of a mutation, returned as data in its payload. Every payload
 * carries the changed object (null when refused) and `errors` (empty when it succeeded).
 */
import type { Outcome, UserError as DomainUserError } from '../domain/model.js';
import { OPEN_ACTOR } from '../domain/vocabulary.js';
import { builder, type Context } from './builder.js';
import { ErrorCodeEnum } from './enums.js';

builder.objectType('UserError', {
  description: 'Why a mutation was refused. A refused mutation changed nothing.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'Stable code to act on.', resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'What is wrong, in words, for a person.' }),
    field: t.exposeString('field', {
      nullable: true,
      description: 'Path of the offending input field, e.g. `vms.3.progress`; null when the input as a whole is at fault.',
    }),
  }),
});

/** What a mutation payload carries: the changed object (null when refused) and the refusals (empty when it succeeded). */
export interface Payload<T> {
  readonly result: T | null;
  readonly errors: readonly DomainUserError[];
}

export const payloadOf = <T>(outcome: Outcome<T>): Payload<T> =>
  outcome.ok ? { result: outcome.value, errors: [] } : { result: null, errors: outcome.errors };

export const ERRORS_DESCRIPTION = 'Why the mutation was refused; empty when it succeeded. A refused mutation changed nothing.';

/**
 * Who a mutation is done by, for the table's commands (docs/contract.md §10): the credential's
 * name, or `open` in open mode. Authorization refuses every operation without a principal, so
 * `unknown` never reaches a command in practice.
 */
export const actorOf = (context: Context): string => {
  const principal = context.principal;
  if (principal == null) return 'unknown';
  return principal.open ? OPEN_ACTOR : principal.name;
};
