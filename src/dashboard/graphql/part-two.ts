/**
 * The dashboard's part-two panels (docs/contract.md §8–§10): the queue (`PENDING`, `waitingReason`),
 * `blockedBy`, `abortReason`, `priority`, evacuations and their actions. Everything they ask the
 * server for is in this file, behind one switch.
 *
 * PART_TWO_FIELDS: on, as `schema.graphql` has the scheduling (§8, §10) and evacuation (§9) names;
 * `test/dashboard/documents.test.ts` validates these documents against the schema (extended with
 * the expected names while they are missing) and fails when the schema has them all and the switch
 * is off. (It was off after the round-two merge: with the queue added, the state query was refused
 * QUERY_TOO_COSTLY, as the cost limit priced `first: $rows` at the largest page, 1,000, instead of
 * the 200 rows asked for; it now prices a variable by its value, docs/decisions.md §11.)
 */
export const PART_TWO_FIELDS = true;

/** Fields added to the dashboard's `Migration` selection. */
export const PART_TWO_MIGRATION_FIELDS = /* GraphQL */ `
  waitingReason
  abortReason
  priority
  blockedBy { code hostId message }
`;

/** Fields added to the dashboard's `Event` selection. */
export const PART_TWO_EVENT_FIELDS = /* GraphQL */ `actor`;

export const EVACUATION_FIELDS = /* GraphQL */ `
  fragment DashboardEvacuation on Evacuation {
    id
    host { id }
    state
    startedAt
    endedAt
    total
    moved
    remaining
    failed
    blockers { vm { id } reason }
  }
`;

/** Fields added to the state query: the queue and the latest evacuations. */
export const PART_TWO_STATE_FIELDS = /* GraphQL */ `
  queue: migrations(state: PENDING, first: $rows) {
    edges { node { ...DashboardMigration } }
    pageInfo { hasNextPage }
  }
  evacuations(first: 10) { edges { node { ...DashboardEvacuation } } }
`;

export const EVACUATIONS = /* GraphQL */ `
  query DashboardEvacuations {
    evacuations(first: 10) { edges { node { ...DashboardEvacuation } } }
  }
  ${EVACUATION_FIELDS}
`;

export const EVACUATION_PLAN = /* GraphQL */ `
  query DashboardEvacuationPlan($hostId: ID!) {
    evacuationPlan(hostId: $hostId) {
      host { id status }
      moves { vm { id } destination { id } }
      blocked { vm { id } reason }
    }
  }
`;

export const EVACUATE_HOST = /* GraphQL */ `
  mutation DashboardEvacuateHost($input: EvacuateHostInput!) {
    evacuateHost(input: $input) {
      evacuation { ...DashboardEvacuation }
      errors { code message field }
    }
  }
  ${EVACUATION_FIELDS}
`;

export const CANCEL_EVACUATION = /* GraphQL */ `
  mutation DashboardCancelEvacuation($input: CancelEvacuationInput!) {
    cancelEvacuation(input: $input) {
      evacuation { ...DashboardEvacuation }
      errors { code message field }
    }
  }
  ${EVACUATION_FIELDS}
`;

/**
 * The part-two names these documents use, as SDL, for the test that validates them while the schema
 * lacks them (docs/contract.md §8–§10). Not used at run time.
 */
export const PART_TWO_EXPECTED_SDL = /* GraphQL */ `
  enum MigrationPriority { EVACUATION NORMAL }
  type DecisionBlocker { code: String! hostId: ID message: String! }
  extend type Migration { waitingReason: String abortReason: String priority: MigrationPriority! blockedBy: [DecisionBlocker!]! }
  extend type Event { actor: String! }
  enum EvacuationState { IN_PROGRESS COMPLETED FAILED CANCELLED }
  type EvacuationBlocker { vm: Vm! reason: String! }
  type Evacuation { id: ID! host: Host! state: EvacuationState! startedAt: DateTime! endedAt: DateTime total: Int! moved: Int! remaining: Int! failed: Int! migrations: [Migration!]! blockers: [EvacuationBlocker!]! }
  type EvacuationEdge { cursor: String! node: Evacuation! }
  type EvacuationConnection { edges: [EvacuationEdge!]! pageInfo: PageInfo! }
  type EvacuationMove { vm: Vm! destination: Host! }
  type EvacuationPlan { host: Host! moves: [EvacuationMove!]! blocked: [EvacuationBlocker!]! }
  extend type Query {
    evacuation(id: ID!): Evacuation
    evacuations(hostId: ID, state: EvacuationState, first: Int, after: String): EvacuationConnection!
    evacuationPlan(hostId: ID!): EvacuationPlan!
  }
  input EvacuateHostInput { hostId: ID! }
  input CancelEvacuationInput { hostId: ID! }
  type EvacuateHostPayload { evacuation: Evacuation errors: [UserError!]! }
  type CancelEvacuationPayload { evacuation: Evacuation errors: [UserError!]! }
  extend type Mutation {
    evacuateHost(input: EvacuateHostInput!): EvacuateHostPayload!
    cancelEvacuation(input: CancelEvacuationInput!): CancelEvacuationPayload!
  }
  extend enum MigrationState { PENDING }
`;
