/**
 * `UserError`: an expected refusal of a mutation, returned as data in its payload. Every payload
 * carries the changed object (null when refused) and `errors` (empty when it succeeded).
 */
import type { Outcome, UserError as DomainUserError } from '../domain/model.js';
import { builder } from './builder.js';
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
