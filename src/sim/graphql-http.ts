/** A minimal GraphQL-over-HTTP client for the simulator's automation and fencing agent. */
export interface GraphQLResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export function graphqlHttp(url: string, headers: Record<string, string> = {}) {
  return async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<T>;
  };
}

export type GraphQLRequest = ReturnType<typeof graphqlHttp>;
