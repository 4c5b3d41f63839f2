/** Runs a mutation for an operator and returns what to show: null when it went through, else why not. */
import type { LiveDashboard } from '../live.js';
import type { UserErrorRow } from '../model.js';

export async function runAction(live: LiveDashboard, query: string, variables: Record<string, unknown>, field: string): Promise<string | null> {
  try {
    const data = await live.request<Record<string, { errors: readonly UserErrorRow[] }>>(query, variables);
    const errors = data[field]?.errors ?? [];
    return errors.length === 0 ? null : errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
