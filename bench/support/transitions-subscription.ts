/** What every fan-out subscriber selects (benchmarks 3 and 8): the selection of the GraphiQL example. */
export const TRANSITIONS_SUBSCRIPTION = /* GraphQL */ `subscription FanOut {
  transitions {
    cursor
    at
    cause
    vmId
    hostId
    from { status hostId location }
    to { status hostId location }
    migration { id state sourceReport destinationReport progress attempt }
  }
}`;
