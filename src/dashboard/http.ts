/** GraphQL over HTTP for the dashboard: a JSON POST (so no CSRF header is needed), with the bearer token. */
export interface GraphQLErrorRow {
  readonly message: string;
  readonly extensions?: { readonly code?: string };
}

/** The server refused the credential (401, or FORBIDDEN for what this token may do). */
export class RefusedError extends Error {
  constructor(
    message: string,
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN',
  ) {
    super(message);
  }
}

/** Transit answered, with GraphQL errors (a refused operation: QUERY_TOO_COSTLY, BAD_USER_INPUT, ...), not with data. */
export class AnsweredError extends Error {
  constructor(
    message: string,
    readonly codes: readonly string[],
  ) {
    super(message);
  }
}

export const isAnswered = (error: unknown): error is AnsweredError => error instanceof AnsweredError;

export async function graphqlRequest<T>(endpoint: string, token: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  let body: { data?: T | null; errors?: readonly GraphQLErrorRow[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new Error(`Transit answered HTTP ${response.status} without a GraphQL result`);
  }
  const errors = body.errors ?? [];
  const refused = errors.find((e) => e.extensions?.code === 'UNAUTHENTICATED' || e.extensions?.code === 'FORBIDDEN');
  if (response.status === 401 || refused !== undefined) {
    throw new RefusedError(refused?.message ?? 'a token is required', (refused?.extensions?.code as 'FORBIDDEN' | undefined) ?? 'UNAUTHENTICATED');
  }
  if (errors.length > 0 || body.data == null) {
    throw new AnsweredError(
      errors.map((e) => `${e.message}${e.extensions?.code ? ` (${e.extensions.code})` : ''}`).join('; ') || `HTTP ${response.status}`,
      errors.map((e) => e.extensions?.code ?? ''),
    );
  }
  return body.data;
}
