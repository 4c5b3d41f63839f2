/**
 * The seed's decision table (oVirt "VM Migration", 2012) as data, made total.
 * It is typed as a record over every (source report, destination report) pair, so a missing
 * combination does not compile. Rows 1–3 decide an outcome, but only once the main idea's
 * conditions hold (see `evaluate.ts`); every other pair keeps the migration in progress.
 */
import { MigrationState, ReportedVmStatus, VmLocation, VmStatus } from './vocabulary.js';

export interface Decision {
  /** The seed's row number (1–8), or null for a case the seed leaves open. */
  readonly row: number | null;
  readonly vmStatus: VmStatus;
  readonly location: VmLocation | null;
  /** IN_PROGRESS, or the outcome this pair decides once both sides are heard, trusted and confirmed. */
  readonly outcome: MigrationState;
  /** False for a pair that cannot be applied: a report contradicting its host's role is ignored. */
  readonly reachable: boolean;
  readonly note: string;
}

const { UP, DOWN, MIGRATING_FROM, MIGRATING_TO } = ReportedVmStatus;

const inProgress = (row: number | null, note: string): Decision => ({
  row,
  vmStatus: VmStatus.MIGRATING_FROM,
  location: VmLocation.SOURCE,
  outcome: MigrationState.IN_PROGRESS,
  reachable: true,
  note,
});

const roleContradiction = (note: string): Decision => ({
  row: null,
  vmStatus: VmStatus.MIGRATING_FROM,
  location: VmLocation.SOURCE,
  outcome: MigrationState.IN_PROGRESS,
  reachable: false,
  note: `Cannot be applied: ${note}; the report is ignored with a REPORT_IGNORED event.`,
});

const SOURCE_SAYS_TO = 'the source reporting MIGRATING_TO contradicts its role';
const DESTINATION_SAYS_FROM = 'the destination reporting MIGRATING_FROM contradicts its role';

/** `DECISION_TABLE[sourceReport][destinationReport]`. */
export const DECISION_TABLE: Readonly<Record<ReportedVmStatus, Readonly<Record<ReportedVmStatus, Decision>>>> = {
  [DOWN]: {
    [DOWN]: {
      row: 1,
      vmStatus: VmStatus.DOWN,
      location: null,
      outcome: MigrationState.VM_DOWN,
      reachable: true,
      note: 'Migration failed and the VM is down. Needs a destination DOWN heard after the source DOWN: before that the destination may not have received the VM yet.',
    },
    [UP]: {
      row: 2,
      vmStatus: VmStatus.UP,
      location: VmLocation.DESTINATION,
      outcome: MigrationState.SUCCEEDED,
      reachable: true,
      note: 'The VM left the source and runs on the destination.',
    },
    [MIGRATING_FROM]: roleContradiction(DESTINATION_SAYS_FROM),
    [MIGRATING_TO]: inProgress(7, 'The source has let go; the destination is still receiving.'),
  },
  [UP]: {
    [DOWN]: {
      row: 3,
      vmStatus: VmStatus.UP,
      location: VmLocation.SOURCE,
      outcome: MigrationState.FAILED,
      reachable: true,
      note: 'The migration failed and the VM still runs on the source: failure event, then a rerun on another host when Transit chose the destination (CANCELLED instead when a cancel was asked).',
    },
    [UP]: inProgress(null, 'Both hosts say the VM runs: VM_RUNNING_ON_BOTH_HOSTS (ERROR). Nothing is decided until one side changes.'),
    [MIGRATING_FROM]: roleContradiction(DESTINATION_SAYS_FROM),
    [MIGRATING_TO]: inProgress(8, 'The destination is receiving while the source still runs the VM.'),
  },
  [MIGRATING_FROM]: {
    [DOWN]: inProgress(4, 'The source is sending; the destination has not received the VM yet.'),
    [UP]: inProgress(5, 'The source is still sending although the destination runs the VM: wait for the source.'),
    [MIGRATING_FROM]: roleContradiction(DESTINATION_SAYS_FROM),
    [MIGRATING_TO]: inProgress(6, 'Both sides are migrating.'),
  },
  [MIGRATING_TO]: {
    [DOWN]: roleContradiction(SOURCE_SAYS_TO),
    [UP]: roleContradiction(SOURCE_SAYS_TO),
    [MIGRATING_FROM]: roleContradiction(`${SOURCE_SAYS_TO} and ${DESTINATION_SAYS_FROM}`),
    [MIGRATING_TO]: roleContradiction(SOURCE_SAYS_TO),
  },
};

/** The rule that holds until both sides are heard, trusted and the source confirmed: never an outcome. */
export const NOT_DECIDABLE_YET: Decision = inProgress(
  null,
  'A side not heard yet in this attempt, a host not responding (stalled), a side not known (peer unknown), or the source has not confirmed the attempt: in progress, nothing is decided.',
);

/** One line of the table as the API serves it; null reports stand for "not heard / not decidable yet". */
export interface DecisionRule extends Decision {
  readonly sourceReport: ReportedVmStatus | null;
  readonly destinationReport: ReportedVmStatus | null;
}

const REPORT_ORDER: readonly ReportedVmStatus[] = [DOWN, UP, MIGRATING_FROM, MIGRATING_TO];

/** Every rule, the seed's eight rows first in their order, then the decided open cases, then the unreachable pairs. */
export const DECISION_RULES: readonly DecisionRule[] = (() => {
  const rules: DecisionRule[] = REPORT_ORDER.flatMap((sourceReport) =>
    REPORT_ORDER.map((destinationReport) => ({
      sourceReport,
      destinationReport,
      ...DECISION_TABLE[sourceReport][destinationReport],
    })),
  );
  rules.push({ sourceReport: null, destinationReport: null, ...NOT_DECIDABLE_YET });
  const rank = (r: DecisionRule) => (r.row !== null ? r.row : r.reachable ? 100 : 200);
  return rules.sort((a, b) => rank(a) - rank(b));
})();

export const decide = (source: ReportedVmStatus, destination: ReportedVmStatus): Decision =>
  DECISION_TABLE[source][destination];
