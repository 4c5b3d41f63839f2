/**
 * The cost limit: an operation is refused (QUERY_TOO_COSTLY) when the response it asks for could
 * hold more than `maxCost` values, estimated from the operation alone, before anything runs.
 *
 * Why not graphql-armor's cost limit: it multiplies only by a literal `first`/`last` and prices
 * a list field like a single object, so `hosts { vms { host { vms { host { vms { id } } } } } }`
 * (a million values on a fleet of a hundred hosts of a hundred VMs) costs it 53 while an ordinary
 * page of 500 VMs costs 17 781. Here every value counts once, lists multiply:
 * - a field that takes a `first` argument pages a list: the list is `first` items long (a
 *   variable: the most a page may hold; no `first`: the default page), whether it is the field
 *   itself or the list just under it (a connection's `edges`, beside `pageInfo`, counted once);
 * - any other list field is assumed to hold `assumedListSize` items (a host's VMs, the hosts);
 * - an object counts one value plus what is selected in it; a scalar counts one.
 * Introspection is not counted (it reads the schema, which is small and fixed).
 */
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';

export interface CostOptions {
  /** Most values a response may be estimated to hold. */
  readonly maxCost: number;
  /** Items of a page when `first` is not given, and the most it may be. */
  readonly pageSize: { readonly default: number; readonly max: number };
  /** Items assumed in a list field that takes no `first`. */
  readonly assumedListSize: number;
}

export const DEFAULT_ASSUMED_LIST_SIZE = 100;

/** The items a paged field (one that takes `first`) returns at most; null for other fields. */
function pageOf(field: FieldNode, definition: GraphQLField<unknown, unknown>, options: CostOptions): number | null {
  if (!definition.args.some((a) => a.name === 'first')) return null;
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (first === undefined || first.value.kind === Kind.NULL) return options.pageSize.default;
  if (first.value.kind === Kind.INT) return Math.min(Number(first.value.value), options.pageSize.max);
  return options.pageSize.max; // a variable: the worst it may be
}

/** Estimated values in the response of `selectionSet` for one object of `type`. */
export function estimateCost(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  type: GraphQLNamedType,
  options: CostOptions,
  /** The page size the enclosing field took, for the list just under it. */
  page: number | null = null,
  fragments: ReadonlySet<string> = new Set(),
): number {
  if (!isObjectType(type)) return 1;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const on = selection.typeCondition === undefined ? type : context.getSchema().getType(selection.typeCondition.name.value);
      cost += on === undefined ? 0 : estimateCost(context, selection.selectionSet, on, options, page, fragments);
      continue;
    }
    if (selection.kind === Kind.FRAGMENT_SPREAD) {
      const fragment = context.getFragment(selection.name.value);
      if (fragment == null || fragments.has(fragment.name.value)) continue; // other rules refuse these
      const on = context.getSchema().getType(fragment.typeCondition.name.value);
      cost += on === undefined ? 0 : estimateCost(context, fragment.selectionSet, on, options, page, new Set([...fragments, fragment.name.value]));
      continue;
    }
    const name = selection.name.value;
    if (name.startsWith('__')) {
      cost += name === '__typename' ? 1 : 0;
      continue;
    }
    const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[name];
    if (field === undefined) continue; // FieldsOnCorrectTypeRule refuses it
    const ownPage = pageOf(selection, field, options);
    const isList = isListType(getNullableType(field.type));
    const items = isList ? (ownPage ?? page ?? options.assumedListSize) : 1;
    // An object that takes `first` (a connection) hands its page to the list under it.
    const childPage = isList ? null : ownPage;
    const each = selection.selectionSet === undefined ? 1 : 1 + estimateCost(context, selection.selectionSet, getNamedType(field.type), options, childPage, fragments);
    cost += items * each;
  }
  return cost;
}

export function costLimitRule(options: CostOptions) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation);
      if (root === undefined || root === null) return;
      const cost = estimateCost(context, operation.selectionSet, root, options);
      if (cost > options.maxCost) {
        context.reportError(
          new GraphQLError(
            `the response could hold about ${Math.round(cost)} values, above the limit of ${options.maxCost}: ask for fewer items (first) or fewer nested lists`,
            { nodes: [operation], extensions: { code: RequestErrorCode.QUERY_TOO_COSTLY, cost: Math.round(cost), maxCost: options.maxCost } },
          ),
        );
      }
    },
  });
}

export function useCostLimit(options: CostOptions): Plugin {
  const rule = costLimitRule(options);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
