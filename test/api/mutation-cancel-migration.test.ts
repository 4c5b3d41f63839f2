import { beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, migrate, report } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const CANCEL_MIGRATION = graphql(`
  mutation CancelMigration($input: CancelMigrationInput!) {
    cancelMigration(input: $input) {
      migration { id state cancelRequested }
      errors { code message field }
    }
  }
`);

const MIGRATION = graphql(`
  query CancelledMigration($id: ID!) {
    migration(id: $id) { state reason vm { status host { id } } }
  }
`);

describe('cancelMigration', () => {
  const server = serverPerTest();
  let migrationId: string;

  beforeEach(async () => {
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
    migrationId = await migrate(server(), 'vm-1', 'host-b');
  });

  it.each([
    ['its VM', () => ({ vmId: 'vm-1' })],
    ['its id', () => ({ migrationId })],
  ])('should ask to cancel a migration in progress, named by %s', async (_case, input) => {
    const { cancelMigration } = await server().data(CANCEL_MIGRATION, { input: input() });
    expect(cancelMigration).toEqual({ migration: { id: migrationId, state: 'IN_PROGRESS', cancelRequested: true }, errors: [] });
  });

  it('should end CANCELLED when the source is seen still running the VM', async () => {
    await server().data(CANCEL_MIGRATION, { input: { vmId: 'vm-1' } });
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'MIGRATING_FROM' }]);
    await report(server(), 'host-b', [{ vmId: 'vm-1', status: 'DOWN' }]);
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'UP' }]);
    const { migration } = await server().data(MIGRATION, { id: migrationId });
    expect(migration).toMatchObject({ state: 'CANCELLED', vm: { status: 'UP', host: { id: 'host-a' } } });
  });

  it('should accept a second cancel as the first', async () => {
    await server().data(CANCEL_MIGRATION, { input: { vmId: 'vm-1' } });
    const { cancelMigration } = await server().data(CANCEL_MIGRATION, { input: { migrationId } });
    expect(cancelMigration.errors).toEqual([]);
    expect(cancelMigration.migration?.cancelRequested).toBe(true);
  });

  it.each([
    ['INVALID_INPUT', 'both a VM and a migration', { vmId: 'vm-1', migrationId: 'm' }, null],
    ['INVALID_INPUT', 'neither a VM nor a migration', {}, null],
    ['NOT_MIGRATING', 'a VM that is not migrating', { vmId: 'vm-2' }, 'vmId'],
    ['NOT_MIGRATING', 'a migration that is not in the table', { migrationId: 'no-such-migration' }, 'migrationId'],
  ])('should refuse with %s: %s, changing nothing', async (code, _case, input, field) => {
    const before = server().app.table.cursor;
    const { cancelMigration } = await server().data(CANCEL_MIGRATION, { input });
    expect(cancelMigration).toEqual({ migration: null, errors: [{ code, message: expect.any(String), field }] });
    expect(server().app.table.cursor).toBe(before);
  });
});
