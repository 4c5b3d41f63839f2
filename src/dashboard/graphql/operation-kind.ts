/**
 * Whether a GraphQL document's operation (the named one, or the only one) is a query, a mutation or
 * a subscription, read with graphql-js's parser so comments and strings cannot mislead it. Used by
 * GraphiQL's fetcher to choose HTTP or graphql-ws.
 */
import { parse } from 'graphql/language/parser.js';

export type OperationKind = 'query' | 'mutation' | 'subscription';

export function operationKind(query: string, operationName?: string | null): OperationKind {
  let operations: { kind: OperationKind; name: string | null }[];
  try {
    operations = parse(query, { noLocation: true }).definitions.flatMap((d) =>
      d.kind === 'OperationDefinition' ? [{ kind: d.operation as OperationKind, name: d.name?.value ?? null }] : [],
    );
  } catch {
    return 'query'; // a syntax error: the server says what is wrong, over HTTP
  }
  const chosen = operationName == null ? operations[0] : operations.find((o) => o.name === operationName);
  return chosen?.kind ?? 'query';
}
