/**
 * Authorization, in one place for HTTP, SSE and graphql-ws: every operation passes through envelop's
 * `execute` or `subscribe`, and this plugin decides there, before any resolver runs, whether the
 * principal may run every root field the operation selects. A refused operation runs nothing at
 * all (not even its permitted fields), so a refusal never changes the table.
 *
 * The policy is data (`ACCESS_POLICY`): each mutation and subscription lists the roles that may run
 * it; every query is for viewers and operators. A root field the policy does not list is refused to
 * everyone. A `host` credential is bound to its host: the field's `boundHost` reads the host an
 * operation speaks for from its arguments, and it must be the credential's.
 */
import {
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type ExecutionArgs,
  type GraphQLObjectType,
  type OperationTypeNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RequestErrorCode, requestError } from '../../schema/errors.js';
import { principalOf, unauthenticated } from './authentication.js';
import { Role, type Principal } from './credentials.js';
import { refusal } from './refusal.js';
import { isIntrospectionField, rootFields } from './root-fields.js';

export interface FieldRule {
  readonly roles: readonly Role[];
  /** For a `host` credential: the host the operation speaks for, read from the field's arguments. */
  readonly boundHost?: (args: Readonly<Record<string, unknown>>) => unknown;
}

const READERS: FieldRule = { roles: [Role.VIEWER, Role.OPERATOR] };

/** Who may run what. Queries: every field, for readers. */
export const ACCESS_POLICY: Readonly<Record<'query', FieldRule>> & Readonly<Record<'mutation' | 'subscription', Readonly<Record<string, FieldRule>>>> = {
  query: READERS,
  mutation: {
    migrateVm: { roles: [Role.OPERATOR] },
    cancelMigration: { roles: [Role.OPERATOR] },
    registerHost: { roles: [Role.OPERATOR] },
    removeHost: { roles: [Role.OPERATOR] },
    reportHostStatus: { roles: [Role.OPERATOR, Role.FENCER] },
    reportFenceResult: { roles: [Role.FENCER] },
    // §9: draining a host is an operator's decision; `evacuationPlan` is a query, for every reader.
    evacuateHost: { roles: [Role.OPERATOR] },
    cancelEvacuation: { roles: [Role.OPERATOR] },
    reportVmStatuses: { roles: [Role.HOST], boundHost: (args) => (args.input as { hostId?: unknown } | undefined)?.hostId },
  },
  subscription: {
    transitions: READERS,
    events: READERS,
    hostCommands: { roles: [Role.HOST], boundHost: (args) => args.hostId },
  },
};

const forbidden = (message: string) => refusal(RequestErrorCode.FORBIDDEN, message, { status: 403 });

const who = (p: Principal) => `credential "${p.name}" (${p.roles.map((r) => (r === Role.HOST ? `host ${p.hostId}` : r)).join(', ')})`;

const ruleOf = (operation: OperationTypeNode, field: string): FieldRule | undefined =>
  operation === 'query' ? ACCESS_POLICY.query : ACCESS_POLICY[operation][field];

/** Why the operation may not run; null when it may. */
export function authorize(args: ExecutionArgs): readonly GraphQLError[] | null {
  const principal = principalOf(args.contextValue);
  if (principal === null) return [unauthenticated('a credential is required')];
  if (principal.open) return null;
  // Fail closed: whatever the executor would make of a document without one operation to run.
  const operation = getOperationAST(args.document, args.operationName);
  if (operation == null) return [requestError(RequestErrorCode.BAD_USER_INPUT, 'the document has no single operation to run: give operationName')];
  const rootType = args.schema.getRootType(operation.operation) as GraphQLObjectType | undefined;
  if (rootType === undefined) return [forbidden(`no credential may run a ${operation.operation}`)];

  let variables: { [name: string]: unknown } | null = null;
  for (const field of rootFields(args.document, operation)) {
    if (isIntrospectionField(field)) continue;
    const name = field.name.value;
    const rule = ruleOf(operation.operation, name);
    const what = `${operation.operation} ${name}`;
    if (rule === undefined) return [forbidden(`no credential may run ${what}`)];
    if (rule.roles.some((role) => role !== Role.HOST && principal.roles.includes(role))) continue;
    if (rule.boundHost === undefined || !rule.roles.includes(Role.HOST) || !principal.roles.includes(Role.HOST)) {
      return [forbidden(`${who(principal)} may not run ${what}`)];
    }
    // The host the operation speaks for, from its arguments as execution will see them.
    if (variables === null) {
      const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
      if (coerced.errors !== undefined) return coerced.errors;
      variables = coerced.coerced;
    }
    const definition = rootType.getFields()[name];
    if (definition === undefined) return [forbidden(`no credential may run ${what}`)];
    let hostId: unknown;
    try {
      hostId = rule.boundHost(getArgumentValues(definition, field, variables));
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
    if (hostId !== principal.hostId) return [forbidden(`${who(principal)} may not run ${what} for host ${JSON.stringify(hostId)}`)];
  }
  return null;
}

export function useAuthorization(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = authorize(args);
      if (errors !== null) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = authorize(args);
      if (errors !== null) setResultAndStopExecution({ errors });
    },
  };
}
