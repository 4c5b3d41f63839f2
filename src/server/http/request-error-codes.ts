/**
 * `useRequestErrorCodes`: a request refused before any resolver ran (variables that do not match
 * their declared types: an unknown enum value, a string for a number, a missing required value)
 * gets `extensions.code` BAD_USER_INPUT, as validation errors get GRAPHQL_VALIDATION_FAILED, so a
 * client can tell every refusal of the request by its code. graphql-js leaves these without one.
 * Over HTTP they answer 400, whichever executor refused them (graphql-jit's errors carry no status).
 */
import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';

function withCode(result: ExecutionResult, code: string): ExecutionResult | null {
  // Refused before execution: no data at all, and errors that belong to no field (no path).
  if (result.data !== undefined || result.errors === undefined) return null;
  // graphql-jit's errors may carry no `extensions` object at all.
  if (!result.errors.some((e) => e.path === undefined && e.extensions?.code === undefined)) return null;
  const errors = result.errors.map((e) => {
    if (e.path !== undefined || e.extensions?.code !== undefined) return e;
    const http = { ...(e.extensions?.http as object | undefined), status: 400 };
    return new GraphQLError(e.message, { nodes: e.nodes, source: e.source, positions: e.positions, originalError: e.originalError, extensions: { ...e.extensions, code, http } });
  });
  return { ...result, errors };
}

export function useRequestErrorCodes({ code = RequestErrorCode.BAD_USER_INPUT }: { code?: string } = {}): Plugin {
  return {
    onExecute: () => ({
      onExecuteDone({ result, setResult }) {
        if (isAsyncIterable(result)) return;
        const coded = withCode(result, code);
        if (coded !== null) setResult(coded);
      },
    }),
    onSubscribe: () => ({
      onSubscribeResult({ result, setResult }) {
        if (isAsyncIterable(result)) return;
        const coded = withCode(result, code);
        if (coded !== null) setResult(coded);
      },
    }),
  };
}
