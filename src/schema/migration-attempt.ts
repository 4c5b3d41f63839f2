/** `MigrationAttempt`: one try of a migration, to one destination. */
import { builder } from './builder.js';
import { MigrationStateEnum } from './enums.js';

builder.objectType('MigrationAttempt', {
  description: 'One try of a migration to one destination. A failed try whose destination Transit chose is rerun on another host.',
  fields: (t) => ({
    attempt: t.exposeInt('attempt', { description: 'Number of the attempt, from 1.' }),
    destinationHostId: t.exposeID('destinationHostId', { nullable: true, description: 'Id of the destination host of this attempt; null while not known.' }),
    destination: t.field({
      type: 'Host',
      nullable: true,
      description: 'The destination host of this attempt; null while not known or not registered.',
      resolve: (a, _args, { table }) => (a.destinationHostId === null ? null : table.host(a.destinationHostId)),
    }),
    state: t.field({ type: MigrationStateEnum, description: 'In progress, or how this attempt ended.', resolve: (a) => a.state }),
    startedAt: t.field({ type: 'DateTime', description: 'When this attempt started.', resolve: (a) => a.startedAt }),
    endedAt: t.field({ type: 'DateTime', nullable: true, description: 'When this attempt ended; null while in progress.', resolve: (a) => a.endedAt }),
    reason: t.exposeString('reason', { nullable: true, description: 'Why this attempt ended as it did; null while in progress.' }),
  }),
});
