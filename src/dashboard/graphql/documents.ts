/**
 * Every GraphQL document the dashboard sends, as text (no DOM here: a test validates them against
 * `schema.graphql`). It never asks for every VM: hosts come without their VMs, migrations a page
 * at a time (`first`), events live from the cursor of the state it loaded.
 */
import { EVACUATION_FIELDS, PART_TWO_EVENT_FIELDS, PART_TWO_FIELDS, PART_TWO_MIGRATION_FIELDS, PART_TWO_STATE_FIELDS } from './part-two.js';

/** Most rows the dashboard asks for in one list (migrations in flight, the queue). */
export const ROWS = 200;

export interface DashboardDocuments {
  readonly state: string;
  readonly hosts: string;
  readonly transitions: string;
  readonly events: string;
  readonly migrateVm: string;
  readonly cancelMigration: string;
}

/** The documents with or without the part-two fields (the test checks both). */
export function dashboardDocuments(partTwo: boolean): DashboardDocuments {
  const migrationFields = /* GraphQL */ `
    fragment DashboardMigration on Migration {
      id
      vmId
      sourceHostId
      destinationHostId
      sourceReport
      destinationReport
      state
      vmStatus
      progress
      stalled
      stalledReason
      cancelRequested
      attempt
      startedAt
      endedAt
      reason
      ${partTwo ? PART_TWO_MIGRATION_FIELDS : ''}
    }
  `;
  return {
    state: /* GraphQL */ `
      query DashboardState($rows: Int!) {
        engine { epoch cursor version startedAt }
        hosts { id cluster status }
        inFlight: migrations(state: IN_PROGRESS, first: $rows) {
          edges { node { ...DashboardMigration } }
          pageInfo { hasNextPage }
        }
        ${partTwo ? PART_TWO_STATE_FIELDS : ''}
      }
      ${migrationFields}
      ${partTwo ? EVACUATION_FIELDS : ''}
    `,
    hosts: /* GraphQL */ `
      query DashboardHosts {
        hosts { id cluster status }
      }
    `,
    transitions: /* GraphQL */ `
      subscription DashboardTransitions($after: String) {
        transitions(after: $after) {
          cursor
          cause
          vmId
          hostId
          hostStatusTo
          migration { ...DashboardMigration }
        }
      }
      ${migrationFields}
    `,
    events: /* GraphQL */ `
      subscription DashboardEvents($after: String) {
        events(after: $after) {
          cursor
          at
          type
          severity
          message
          vmId
          hostId
          migrationId
          ${partTwo ? PART_TWO_EVENT_FIELDS : ''}
        }
      }
    `,
    migrateVm: /* GraphQL */ `
      mutation DashboardMigrateVm($input: MigrateVmInput!) {
        migrateVm(input: $input) {
          migration { ...DashboardMigration }
          errors { code message field }
        }
      }
      ${migrationFields}
    `,
    cancelMigration: /* GraphQL */ `
      mutation DashboardCancelMigration($input: CancelMigrationInput!) {
        cancelMigration(input: $input) {
          migration { id state cancelRequested }
          errors { code message field }
        }
      }
    `,
  };
}

export const DOCUMENTS: DashboardDocuments = dashboardDocuments(PART_TWO_FIELDS);
