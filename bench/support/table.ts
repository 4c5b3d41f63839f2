/** The migration table as the in-process benchmarks drive it: timeouts and deadlines that never fire, a clock they move. */
import { MigrationTable } from '../../src/domain/table/table.js';

const NEVER_MS = 3_600_000;

export function benchTable(clock: () => number): MigrationTable {
  return new MigrationTable({
    epoch: 'bench',
    clock,
    hostTimeoutMs: NEVER_MS,
    migrationStartTimeoutMs: NEVER_MS,
    maxAttempts: 3,
    historyLimit: 100_000,
    migrationProgressTimeoutMs: 0,
    migrationCompletionTimeoutPerGibMs: 0,
  });
}
