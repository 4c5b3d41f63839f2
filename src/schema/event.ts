/** `Event`: an entry of the operator's event log, with the `events` query and subscription. */
import type { EventType } from '../domain/vocabulary.js';
import { builder, type TableView } from './builder.js';
import { connection, logCursor, pageSize, readLogCursor } from './cursors.js';
import { EventTypeEnum, SeverityEnum } from './enums.js';
import { deliver, RequestErrorCode, requestError } from './errors.js';

builder.objectType('Event', {
  description: "An entry of the event log: what an operator must read, after oVirt's audit log.",
  fields: (t) => ({
    cursor: t.string({
      description: 'Position in the engine run (`<epoch>:<sequence>`, shared with transitions); pass it as `after` to read on.',
      resolve: (e, _args, { table }) => logCursor(table, e.seq),
    }),
    at: t.field({ type: 'DateTime', description: "When it happened, by the engine's clock.", resolve: (e) => e.at }),
    type: t.field({ type: EventTypeEnum, description: 'What happened.', resolve: (e) => e.type }),
    severity: t.field({ type: SeverityEnum, description: 'How urgently to read it.', resolve: (e) => e.severity }),
    actor: t.exposeString('actor', {
      description: 'Who caused it: the credential that sent the command (`open` in open mode), or `engine` for what the engine did by itself.',
    }),
    message: t.exposeString('message', { description: 'What happened, in words, with the ids to follow up.' }),
    vmId: t.exposeID('vmId', { nullable: true, description: 'The VM it is about, if any.' }),
    hostId: t.exposeID('hostId', { nullable: true, description: 'The host it is about (the source, for a migration), if any.' }),
    migrationId: t.exposeID('migrationId', { nullable: true, description: 'The migration it is about, if any.' }),
  }),
});

const EventConnection = builder.connectionObject(
  { type: 'Event', name: 'EventConnection', description: 'A page of the event log, oldest first.' },
  { name: 'EventEdge', description: 'One event of a page, with its cursor.' },
);

interface EventPageArgs {
  readonly after?: string | null;
  readonly first?: number | null;
  readonly vmId?: string | null;
  readonly hostId?: string | null;
  readonly type?: EventType | null;
}

/** A page of the event log after a cursor; a cursor whose successors were evicted asks for a resync, never skips. */
function eventPage(table: TableView, args: EventPageArgs) {
  const read = table.eventLogAfter(args, args.after == null ? null : readLogCursor(table, args.after), pageSize(args.first));
  if (!read.ok) throw requestError(RequestErrorCode.RESYNC_REQUIRED, `events after ${args.after} are no longer kept: read the log again from its start`);
  return connection(read.page, (e) => logCursor(table, e.seq));
}

builder.queryField('events', (t) =>
  t.field({
    type: EventConnection,
    description: 'The event log (the most recent, up to the history limit), filtered, a page at a time, oldest first.',
    args: {
      after: t.arg.string({ description: 'Cursor of the last event read (`pageInfo.endCursor`, or any event or transition cursor).' }),
      first: t.arg.int({ description: 'Page size: at most 1000, 50 when not given.' }),
      vmId: t.arg.id({ description: 'Only events about this VM.' }),
      hostId: t.arg.id({ description: 'Only events about this host.' }),
      type: t.arg({ type: EventTypeEnum, description: 'Only events of this type.' }),
    },
    resolve: (_root, args, { table }) => eventPage(table, args),
  }),
);

builder.subscriptionField('events', (t) =>
  t.field({
    type: 'Event',
    description:
      'Every event from now on, or, with `after`, every event after that cursor and then the live ones, with no gap and no duplicate. Ends with RESYNC_REQUIRED or SUBSCRIBER_TOO_SLOW as `transitions` does.',
    args: {
      after: t.arg.string({ description: 'Cursor of the last event seen.' }),
      vmId: t.arg.id({ description: 'Only events about this VM.' }),
      hostId: t.arg.id({ description: 'Only events about this host.' }),
    },
    subscribe: (_root, args, { feeds }) => feeds.events(args),
    resolve: deliver,
  }),
);
