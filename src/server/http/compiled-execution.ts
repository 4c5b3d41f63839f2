/**
 * `useCompiledExecution`: queries and mutations run through graphql-jit, which compiles each
 * operation once (yoga's parse cache hands the same document object back for the same text) into
 * a function that coerces its variables and resolves its fields without interpreting the AST again.
 * It is what makes a host's full report cheap: graphql-js coerces the 200 `VmReportInput`s of a
 * report value by value, at about half the server's time (docs/BENCHMARKS.md).
 *
 * Subscriptions keep graphql-js: graphql-jit 0.8.7 hands a subscription field's `subscribe` the
 * operation's variables instead of the field's arguments, so `hostCommands(hostId: "host-a")` would
 * subscribe without its host.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import type { Plugin } from 'graphql-yoga';

export function useCompiledExecution(): Plugin {
  const { onExecute } = useGraphQlJit();
  return { onExecute };
}
