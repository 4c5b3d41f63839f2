/** A minimal GraphQL-over-HTTP client: the host agent's reports, the simulator's automation and fencing agent. */
export interface GraphQLResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface GraphQLHttpOptions {
  readonly headers?: Record<string, string>;
  /** A request not answered within this many ms is aborted (rejects). */
  readonly timeoutMs?: number;
}

export function graphqlHttp(url: string, { headers = {}, timeoutMs }: GraphQLHttpOptions = {}) {
  return async function request<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T> & { status: number }> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
      signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
      body: JSON.stringify({ query, variables }),
    });
    return { ...((await response.json()) as GraphQLResponse<T>), status: response.status };
  };
}

export type GraphQLRequest = ReturnType<typeof graphqlHttp>;
