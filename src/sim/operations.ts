/** The GraphQL operations of the simulator's automation, fencing agent and observer (public schema names). */
export const REGISTER_HOST = /* GraphQL */ `
  mutation SimRegisterHost($input: RegisterHostInput!) {
    registerHost(input: $input) { host { id } errors { code message } }
  }
`;

export const MIGRATE_VM = /* GraphQL */ `
  mutation SimMigrateVm($input: MigrateVmInput!) {
    migrateVm(input: $input) { migration { id } errors { code message } }
  }
`;

export const CANCEL_MIGRATION = /* GraphQL */ `
  mutation SimCancelMigration($input: CancelMigrationInput!) {
    cancelMigration(input: $input) { migration { id } errors { code message } }
  }
`;

export const REPORT_HOST_STATUS = /* GraphQL */ `
  mutation SimReportHostStatus($input: ReportHostStatusInput!) {
    reportHostStatus(input: $input) { host { id status } errors { code message } }
  }
`;

export const REPORT_FENCE_RESULT = /* GraphQL */ `
  mutation SimReportFenceResult($input: ReportFenceResultInput!) {
    reportFenceResult(input: $input) { host { id status } errors { code message } }
  }
`;

export const TRANSITIONS = /* GraphQL */ `
  subscription SimTransitions($after: String) {
    transitions(after: $after) {
      cursor
      at
      cause
      vmId
      hostId
      hostStatusTo
      migration {
        id
        state
        stalled
        attempt
        abortReason
        startedAt
        source { id }
        destination { id }
        attempts { attempt state startedAt destination { id } }
      }
    }
  }
`;

export const VMS_PAGE = /* GraphQL */ `
  query SimVms($after: String) {
    vms(first: 500, after: $after) {
      edges { node { id status host { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export interface TransitionView {
  readonly cursor: string;
  /** When it happened (the simulator's §9 checks read it; optional for views built by hand). */
  readonly at?: string;
  readonly cause: string;
  readonly vmId: string | null;
  readonly hostId: string | null;
  readonly hostStatusTo: string | null;
  readonly migration: {
    readonly id: string;
    readonly state: string;
    readonly stalled: boolean;
    readonly attempt: number;
    readonly abortReason: string | null;
    readonly startedAt: string;
    readonly source: { readonly id: string } | null;
    readonly destination: { readonly id: string } | null;
    readonly attempts: readonly { readonly attempt: number; readonly state: string; readonly startedAt: string; readonly destination: { readonly id: string } | null }[];
  } | null;
}

export interface VmsPage {
  readonly vms: {
    readonly edges: readonly { readonly node: { readonly id: string; readonly status: string; readonly host: { readonly id: string } | null } }[];
    readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  };
}

export const IN_FLIGHT = /* GraphQL */ `
  query SimInFlight {
    migrations(state: IN_PROGRESS, first: 100) { edges { node { id vm { id } stalled stalledReason blockedBy { code } } } }
    pending: migrations(state: PENDING, first: 100) { edges { node { id vm { id } waitingReason } } }
  }
`;

export interface InFlightPage {
  readonly migrations: {
    readonly edges: readonly {
      readonly node: {
        readonly id: string;
        readonly vm: { readonly id: string };
        readonly stalled: boolean;
        readonly stalledReason: string | null;
        readonly blockedBy: readonly { readonly code: string }[];
      };
    }[];
  };
  readonly pending: { readonly edges: readonly { readonly node: { readonly id: string; readonly vm: { readonly id: string }; readonly waitingReason: string | null } }[] };
}

export const SPLIT_BRAIN_EVENTS = /* GraphQL */ `
  query SimSplitBrain {
    events(type: VM_RUNNING_ON_BOTH_HOSTS, first: 1000) { edges { node { message vmId } } }
  }
`;

export interface EventsPage {
  readonly events: { readonly edges: readonly { readonly node: { readonly message: string; readonly vmId: string | null } }[] };
}

/** The simulator's operator: evacuations for maintenance (docs/contract.md §9). */
export const EVACUATE_HOST = /* GraphQL */ `
  mutation SimEvacuateHost($input: EvacuateHostInput!) {
    evacuateHost(input: $input) { evacuation { id state } errors { code message } }
  }
`;

export const CANCEL_EVACUATION = /* GraphQL */ `
  mutation SimCancelEvacuation($input: CancelEvacuationInput!) {
    cancelEvacuation(input: $input) { evacuation { id state } errors { code message } }
  }
`;

export const EVACUATION = /* GraphQL */ `
  query SimEvacuation($id: ID!) {
    evacuation(id: $id) { id state total moved remaining failed startedAt endedAt blockers { vm { id } reason } }
  }
`;

export const RUNNING_EVACUATIONS = /* GraphQL */ `
  query SimRunningEvacuations {
    evacuations(state: IN_PROGRESS, first: 100) { edges { node { id host { id } remaining blockers { vm { id } reason } } } }
  }
`;

export interface EvacuationView {
  readonly id: string;
  readonly state: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  readonly total: number;
  readonly moved: number;
  readonly remaining: number;
  readonly failed: number;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly blockers: readonly { readonly vm: { readonly id: string }; readonly reason: string }[];
}

export interface EvacuateHostResult {
  readonly evacuateHost: { readonly evacuation: { readonly id: string; readonly state: string } | null; readonly errors: readonly { readonly code: string; readonly message: string }[] };
}

export interface RunningEvacuationsPage {
  readonly evacuations: {
    readonly edges: readonly { readonly node: { readonly id: string; readonly host: { readonly id: string }; readonly remaining: number; readonly blockers: readonly { readonly vm: { readonly id: string }; readonly reason: string }[] } }[];
  };
}
