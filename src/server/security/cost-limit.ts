/**
 * The cost limit: an operation is refused (QUERY_TOO_COSTLY) when the response it asks for could
 * hold more than `maxCost` values, estimated from the operation and the lists' sizes, before
 * anything runs.
 *
 * Why not graphql-armor's cost limit: it multiplies only by a literal `first`/`last` and prices
 * a list field like a single object, so `hosts { vms { host { vms { host { vms { id } } } } } }`
 * (a million values on a fleet of a hundred hosts of a hundred VMs) costs it 53 while an ordinary
 * page of 500 VMs costs 17 781. Here every value counts once, lists multiply:
 * - a field that takes a `first` argument pages a list: the list is `first` items long (a
 *   variable: its value, as the operation is checked when it is about to run with its variables;
 *   a variable without an integer value: the most a page may hold; no `first`: the default page;
 *   never more than the most a page may hold), whether it is the field itself or the list just
 *   under it (a connection's `edges`, beside `pageInfo`, counted once);
 * - any other list field counts its real size when it is known (a host's VMs: the most any host
 *   has; the hosts: how many there are; both bounded by §11's caps), else `assumedListSize` items;
 * - an object counts one value plus what is selected in it; a scalar counts one.
 * Introspection is not counted (it reads the schema, which is small and fixed).
 *
 * Fields are collected as execution collects them: a fragment spread twice into one object is
 * selected once, and each selection set is priced once per type and page, so the estimate takes
 * time linear in the document however its fragments spread each other (docs/contract.md §11;
 * expanding a fragment again at every spread took 2^n steps for n fragments).
 */
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLError,
  isListType,
  isObjectType,
  Kind,
  isAbstractType,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';
import { refusal } from './refusal.js';

export interface CostOptions {
  /** Most values a response may be estimated to hold. */
  readonly maxCost: number;
  /** Items of a page when `first` is not given, and the most it may be. */
  readonly pageSize: { readonly default: number; readonly max: number };
  /** Items assumed in a list field that takes no `first` and has no known size. */
  readonly assumedListSize: number;
  /**
   * The real size of unpaged list fields, by `Type.field` (`Host.vms`: the most VMs on one host,
   * `Query.hosts`: the hosts), read when an operation is checked; a list not named here is
   * assumed `assumedListSize` long.
   */
  readonly listSizes?: ListSizes;
}

/** Sizes of unpaged lists, by `Type.field`, read when an operation is checked. */
export type ListSizes = Readonly<Record<string, () => number>>;

export const DEFAULT_ASSUMED_LIST_SIZE = 100;

/** The operation's variables as sent (not yet coerced: anything but an integer is priced at the worst). */
export type Variables = Readonly<Record<string, unknown>> | null | undefined;

/** A page of `n` items, within what a page may hold. */
const pageWithin = (n: number, options: CostOptions): number => Math.max(0, Math.min(n, options.pageSize.max));

/** The items a paged field (one that takes `first`) returns at most; null for other fields. */
function pageOf(field: FieldNode, definition: GraphQLField<unknown, unknown>, options: CostOptions, variables: Variables, readsVariable: () => void): number | null {
  if (!definition.args.some((a) => a.name === 'first')) return null;
  const first = field.arguments?.find((a) => a.name.value === 'first');
  if (first === undefined || first.value.kind === Kind.NULL) return options.pageSize.default;
  if (first.value.kind === Kind.INT) return pageWithin(Number(first.value.value), options);
  if (first.value.kind === Kind.VARIABLE) {
    readsVariable();
    // Checked when the operation is about to run: the page its variable asks for (docs/contract.md §11).
    const value = variables?.[first.value.name.value];
    if (typeof value === 'number' && Number.isInteger(value)) return pageWithin(value, options);
  }
  return options.pageSize.max; // a variable without a value (or not an integer): the worst it may be
}

/** The fields one object of a level selects: through inline fragments and spreads, each fragment once. */
function fieldsOfLevel(
  selectionSet: SelectionSetNode,
  type: GraphQLObjectType,
  schema: GraphQLSchema,
  fragments: (name: string) => FragmentDefinitionNode | null | undefined,
): FieldNode[] {
  const fields: FieldNode[] = [];
  // As graphql-js collects fields: a fragment spread again in the same object adds nothing.
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        fields.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition === undefined ? type : schema.getType(selection.typeCondition.name.value);
        if (on === type || (on !== undefined && on !== null && isAbstractType(on) && schema.isSubType(on, type))) walk(selection.selectionSet);
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments(selection.name.value);
        if (fragment == null) continue; // other rules refuse it
        const on = schema.getType(fragment.typeCondition.name.value);
        if (on === type || (on !== undefined && on !== null && isAbstractType(on) && schema.isSubType(on, type))) walk(fragment.selectionSet);
      }
    }
  };
  walk(selectionSet);
  return fields;
}

/**
 * Estimates the values in responses. Each selection set is priced once per object type and page
 * (a fragment's selections are the same nodes wherever it is spread), and a fragment spread twice
 * into one object counts once, as execution collects it once: the work is linear in the document,
 * however its fragments spread each other.
 */
export class CostEstimator {
  private readonly memo = new Map<SelectionSetNode, Map<string, number>>();
  private readonly sizes = new Map<string, number>();
  /** Whether the estimate read a variable or a list's size as it is now: else it holds for every request of the document. */
  readsRequest = false;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: (name: string) => FragmentDefinitionNode | null | undefined,
    private readonly options: CostOptions,
    private readonly variables: Variables = null,
  ) {}

  /** Estimated values in the response of `selectionSet` for one object of `type`. */
  estimate(
    selectionSet: SelectionSetNode,
    type: GraphQLNamedType,
    /** The page size the enclosing field took, for the list just under it. */
    page: number | null = null,
  ): number {
    if (!isObjectType(type)) return 1;
    const key = `${type.name}:${page ?? ''}`;
    let byType = this.memo.get(selectionSet);
    const known = byType?.get(key);
    if (known !== undefined) return known;
    if (byType === undefined) this.memo.set(selectionSet, (byType = new Map()));
    byType.set(key, 0); // a cycle (refused by validation) counts nothing
    let cost = 0;
    // A leaf selected twice under one key is one value; objects under one key are summed (an upper bound).
    const leaves = new Set<string>();
    for (const selection of fieldsOfLevel(selectionSet, type, this.schema, this.fragments)) {
      const name = selection.name.value;
      if (selection.selectionSet === undefined) {
        const responseKey = selection.alias?.value ?? name;
        if (leaves.has(responseKey)) continue;
        leaves.add(responseKey);
      }
      if (name.startsWith('__')) {
        cost += name === '__typename' ? 1 : 0;
        continue;
      }
      const field: GraphQLField<unknown, unknown> | undefined = type.getFields()[name];
      if (field === undefined) continue; // FieldsOnCorrectTypeRule refuses it
      const ownPage = pageOf(selection, field, this.options, this.variables, () => (this.readsRequest = true));
      const isList = isListType(getNullableType(field.type));
      const items = isList ? (ownPage ?? page ?? this.listSize(type, name)) : 1;
      // An object that takes `first` (a connection) hands its page to the list under it.
      const childPage = isList ? null : ownPage;
      const each = selection.selectionSet === undefined ? 1 : 1 + this.estimate(selection.selectionSet, getNamedType(field.type), childPage);
      cost += items * each;
    }
    byType.set(key, cost);
    return cost;
  }

  /** An unpaged list's size: as it is now when known (read once per operation), else the assumed size. */
  private listSize(type: GraphQLObjectType, field: string): number {
    const name = `${type.name}.${field}`;
    let size = this.sizes.get(name);
    if (size === undefined) {
      const read = this.options.listSizes?.[name];
      if (read !== undefined) this.readsRequest = true;
      size = read === undefined ? this.options.assumedListSize : read();
      this.sizes.set(name, size);
    }
    return size;
  }
}

/** An operation's estimate, and whether it holds for every request of its document (it read no variable and no live list size). */
export interface OperationCost {
  readonly cost: number;
  readonly sameForEveryRequest: boolean;
}

/** The estimated values in the response of the operation `args` would run; null when it has none to run. */
export function estimateOperationCost(
  { schema, document, operationName, variableValues }: Pick<ExecutionArgs, 'schema' | 'document' | 'operationName' | 'variableValues'>,
  options: CostOptions,
): OperationCost | null {
  const operation = getOperationAST(document, operationName);
  if (operation == null) return null;
  const root = schema.getRootType(operation.operation);
  if (root == null) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const estimator = new CostEstimator(schema, (name) => fragments.get(name), options, variableValues);
  const cost = estimator.estimate(operation.selectionSet, root);
  return { cost, sameForEveryRequest: !estimator.readsRequest };
}

/**
 * The cost limit, checked when an operation is about to run (HTTP, SSE and graphql-ws all pass
 * through `execute` or `subscribe`), not in validation: validation results are cached by document,
 * and the lists' real sizes change as the table does.
 */
export function useCostLimit(options: CostOptions): Plugin {
  // Documents come from yoga's parse cache, the same object for every request that sends the same
  // text (a host's report every 2 s): an estimate that read nothing of the request is kept with it.
  const fixedCosts = new WeakMap<DocumentNode, Map<string | null | undefined, number>>();
  const costOf = (args: ExecutionArgs): number | null => {
    const kept = fixedCosts.get(args.document)?.get(args.operationName);
    if (kept !== undefined) return kept;
    const estimate = estimateOperationCost(args, options);
    if (estimate === null) return null;
    if (estimate.sameForEveryRequest) {
      let byName = fixedCosts.get(args.document);
      if (byName === undefined) fixedCosts.set(args.document, (byName = new Map()));
      byName.set(args.operationName, estimate.cost);
    }
    return estimate.cost;
  };
  const check = (args: ExecutionArgs): GraphQLError | null => {
    const cost = costOf(args);
    if (cost === null || cost <= options.maxCost) return null;
    return refusal(
      RequestErrorCode.QUERY_TOO_COSTLY,
      `the response could hold about ${Math.round(cost)} values, above the limit of ${options.maxCost}: ask for fewer items (first) or fewer nested lists`,
      { status: 400 },
      { cost: Math.round(cost), maxCost: options.maxCost },
    );
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error !== null) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error !== null) setResultAndStopExecution({ errors: [error] });
    },
  };
}
