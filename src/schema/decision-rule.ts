/** `DecisionRule`: one line of the decision table, with the `decisionTable` query. */
import { DECISION_RULES } from '../domain/decision-table.js';
import { builder } from './builder.js';
import { MigrationStateEnum, ReportedVmStatusEnum, VmLocationEnum, VmStatusEnum } from './enums.js';

builder.objectType('DecisionRule', {
  description:
    "One line of the decision table: what the pair (source report, destination report) means for a migrating VM. Outcomes are decided only when both sides are heard, trusted and the source confirmed.",
  fields: (t) => ({
    row: t.exposeInt('row', { nullable: true, description: "The seed's row number (1–8); null for a case the seed leaves open." }),
    sourceReport: t.field({
      type: ReportedVmStatusEnum,
      nullable: true,
      description: 'What the source reports; null in the rule for "a side not heard yet".',
      resolve: (r) => r.sourceReport,
    }),
    destinationReport: t.field({
      type: ReportedVmStatusEnum,
      nullable: true,
      description: 'What the destination reports; null in the rule for "a side not heard yet".',
      resolve: (r) => r.destinationReport,
    }),
    vmStatus: t.field({ type: VmStatusEnum, description: "The VM's status.", resolve: (r) => r.vmStatus }),
    location: t.field({ type: VmLocationEnum, nullable: true, description: 'Where the VM runs; null when it runs nowhere.', resolve: (r) => r.location }),
    outcome: t.field({ type: MigrationStateEnum, description: 'IN_PROGRESS, or the outcome the pair decides.', resolve: (r) => r.outcome }),
    reachable: t.exposeBoolean('reachable', { description: "False for a pair that cannot be applied: a report contradicting its host's role is ignored." }),
    note: t.exposeString('note', { description: 'The reason, in words.' }),
  }),
});

builder.queryField('decisionTable', (t) =>
  t.field({
    type: ['DecisionRule'],
    description: "The decision table: the seed's eight rows first, then the cases Transit decided, then the pairs that cannot be applied.",
    resolve: () => DECISION_RULES,
  }),
);
