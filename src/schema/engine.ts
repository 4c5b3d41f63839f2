/** `Engine`: this run of Transit, with the `engine` query. */
import packageJson from '../../package.json' with { type: 'json' };
import { builder } from './builder.js';

builder.objectType('Engine', {
  description: 'This run of the engine. A restart starts a new epoch with an empty table; cursors of earlier epochs ask for a resync.',
  fields: (t) => ({
    epoch: t.string({ description: 'Identifies this engine run; the first part of every cursor.', resolve: (table) => table.epoch }),
    startedAt: t.field({ type: 'DateTime', description: 'When this engine run started.', resolve: (table) => table.startedAt }),
    cursor: t.string({
      description: 'Cursor of the latest transition or event; subscribe with it as `after` to miss nothing from now on.',
      resolve: (table) => table.cursor,
    }),
    version: t.string({ description: 'Version of Transit.', resolve: () => packageJson.version }),
  }),
});

builder.queryField('engine', (t) =>
  t.field({ type: 'Engine', description: 'This run of the engine: epoch, start time, latest cursor, version.', resolve: (_root, _args, { table }) => table }),
);
