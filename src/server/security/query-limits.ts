/**
 * Limits on the shape of an operation: depth, aliases, directives and tokens in the document with
 * graphql-armor, and the estimated size of the response with our own cost rule (cost-limit.ts says
 * why not armor's). They run in envelop's `parse` and `validate`, which graphql-ws operations pass
 * through as HTTP ones do (websocket.ts), so a WebSocket is no way around them. Each refusal
 * carries its own code (QUERY_TOO_DEEP, ...) and runs nothing.
 *
 * Introspection can be switched off for both transports (`NoSchemaIntrospectionCustomRule`);
 * field suggestions ("Did you mean ...?") are then masked too, as they would tell the schema.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PAGE_SIZE } from '../../schema/cursors.js';
import { RequestErrorCode } from '../../schema/errors.js';
import { DEFAULT_ASSUMED_LIST_SIZE, useCostLimit, type ListSizes } from './cost-limit.js';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly introspection: boolean;
}

/** armor's message without its misleading "Syntax Error: " prefix, with our code. */
const coded = (error: GraphQLError, code: RequestErrorCode) =>
  new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code, http: { status: 400 } } });

/** Reports the refusal as a validation error (the operation is refused; validation goes on). */
const reportAs = (code: RequestErrorCode) => ({
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(coded(error, code))],
});

/** `listSizes`: the real sizes of unpaged lists, read by the cost limit when it checks an operation. */
export function useQueryLimits(limits: QueryLimits, listSizes: ListSizes = {}): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, ...reportAs(RequestErrorCode.QUERY_TOO_DEEP) },
    costLimit: { enabled: false },
    maxAliases: { n: limits.maxAliases, ...reportAs(RequestErrorCode.TOO_MANY_ALIASES) },
    maxDirectives: { n: limits.maxDirectives, ...reportAs(RequestErrorCode.TOO_MANY_DIRECTIVES) },
    // Counted while parsing, before there is a validation context: the parse fails.
    maxTokens: {
      n: limits.maxTokens,
      propagateOnRejection: false,
      onReject: [
        (_context, error) => {
          throw coded(error, RequestErrorCode.TOO_MANY_TOKENS);
        },
      ],
    },
    blockFieldSuggestion: { enabled: !limits.introspection },
  }) as Plugin;
  const cost = useCostLimit({ maxCost: limits.maxCost, pageSize: PAGE_SIZE, assumedListSize: DEFAULT_ASSUMED_LIST_SIZE, listSizes });
  if (limits.introspection) return [armor, cost];
  const noIntrospection: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
  return [armor, cost, noIntrospection];
}
