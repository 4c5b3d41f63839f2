/** Collects the type files and exports the schema. */
import { assertValidSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './root.js';
import './enums.js';
import './user-error.js';
import './vm.js';
import './vm-state.js';
import './vm-report.js';
import './host.js';
import './migration.js';
import './migration-attempt.js';
import './decision-blocker.js';
import './transition.js';
import './event.js';
import './decision-rule.js';
import './engine.js';
import './host-command.js';
import './evacuation.js';
import './evacuation-blocker.js';
import './evacuation-plan.js';
import './evacuation-move.js';

export const schema = builder.toSchema({ sortSchema: false });
// Validated once here (graphql keeps the verdict on the schema): an invalid schema stops the
// process at start, and the first request does not pay for the check (about 10 ms of blocked loop).
assertValidSchema(schema);

/** The schema as committed in `schema.graphql`: sorted, so the file only changes when the schema does. */
export const printedSchema = (): string => `${printSchema(lexicographicSortSchema(schema))}\n`;
