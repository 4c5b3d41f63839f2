/** The GraphQL operations a host agent sends, written against the public schema (schema.graphql). */
export const HOST_COMMANDS = /* GraphQL */ `
  subscription AgentHostCommands($hostId: ID!) {
    hostCommands(hostId: $hostId) {
      kind
      migrationId
      vmId
      destinationHostId
      attempt
      epoch
    }
  }
`;

export const REPORT_VM_STATUSES = /* GraphQL */ `
  mutation AgentReportVmStatuses($input: ReportVmStatusesInput!) {
    reportVmStatuses(input: $input) {
      host {
        id
        status
      }
      errors {
        code
        message
        field
      }
    }
  }
`;

export interface ReportResult {
  readonly reportVmStatuses: {
    readonly host: { readonly id: string; readonly status: string } | null;
    readonly errors: readonly { readonly code: string; readonly message: string; readonly field: string | null }[];
  };
}
