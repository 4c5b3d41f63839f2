/** What the dashboard reads from the API, as the documents in graphql/documents.ts select it. */
export interface DecisionBlockerRow {
  readonly code: string;
  readonly hostId: string | null;
  readonly message: string;
}

export interface MigrationRow {
  readonly id: string;
  readonly vmId: string;
  readonly sourceHostId: string | null;
  readonly destinationHostId: string | null;
  readonly sourceReport: string | null;
  readonly destinationReport: string | null;
  readonly state: string;
  readonly vmStatus: string;
  readonly progress: number | null;
  readonly stalled: boolean;
  readonly stalledReason: string | null;
  readonly cancelRequested: boolean;
  readonly attempt: number;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly reason: string | null;
  // Part two (docs/contract.md §8, §10), present when PART_TWO_FIELDS is on.
  readonly waitingReason?: string | null;
  readonly abortReason?: string | null;
  readonly priority?: string;
  readonly blockedBy?: readonly DecisionBlockerRow[];
}

export interface HostRow {
  readonly id: string;
  readonly cluster: string;
  readonly status: string;
}

export interface EventRow {
  readonly cursor: string;
  readonly at: string;
  readonly type: string;
  readonly severity: string;
  readonly message: string;
  readonly vmId: string | null;
  readonly hostId: string | null;
  readonly migrationId: string | null;
  readonly actor?: string;
}

export interface TransitionRow {
  readonly cursor: string;
  readonly cause: string;
  readonly vmId: string | null;
  readonly hostId: string | null;
  readonly hostStatusTo: string | null;
  readonly migration: MigrationRow | null;
}

export interface EvacuationRow {
  readonly id: string;
  readonly host: { readonly id: string };
  readonly state: string;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly total: number;
  readonly moved: number;
  readonly remaining: number;
  readonly failed: number;
  readonly blockers: readonly { readonly vm: { readonly id: string }; readonly reason: string }[];
}

export interface EvacuationPlanRow {
  readonly host: { readonly id: string; readonly status: string };
  readonly moves: readonly { readonly vm: { readonly id: string }; readonly destination: { readonly id: string } }[];
  readonly blocked: readonly { readonly vm: { readonly id: string }; readonly reason: string }[];
}

export interface EngineRow {
  readonly epoch: string;
  readonly cursor: string;
  readonly version: string;
  readonly startedAt: string;
}

interface Page<T> {
  readonly edges: readonly { readonly node: T }[];
  readonly pageInfo?: { readonly hasNextPage: boolean };
}

export interface StateResult {
  readonly engine: EngineRow;
  readonly hosts: readonly HostRow[];
  readonly inFlight: Page<MigrationRow>;
  readonly queue?: Page<MigrationRow>;
  readonly evacuations?: Page<EvacuationRow>;
}

export interface UserErrorRow {
  readonly code: string;
  readonly message: string;
  readonly field: string | null;
}
