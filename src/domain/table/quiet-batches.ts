/**
 * Per host, the fingerprint of its last batch that changed nothing and could change nothing if
 * sent again as long as the table stays as it is: every item an UP of a VM already UP there, in no
 * migration, or a side repeating its report on a migration whose verdict holds whatever the clock
 * says; at the memory the VM has; and (for a full batch) no VM of the host left out. The table
 * forgets a host's fingerprint whenever something such a batch depends on changes: a VM on the
 * host (its status, place, migration or memory), a migration the host is a side of, the status of
 * the host or of a host on the other side of one of its migrations, the host itself. While the
 * fingerprint is kept, the same batch again is a no-op without reading a VM (docs/decisions.md,
 * "Repeated batches").
 */
export class QuietBatches {
  private readonly byHost = new Map<string, string>();

  /** `enabled` false: nothing is remembered, every batch is applied item by item. */
  constructor(private readonly enabled: boolean) {}

  remember(hostId: string, fingerprint: string): void {
    if (this.enabled) this.byHost.set(hostId, fingerprint);
  }

  repeats(hostId: string, fingerprint: string): boolean {
    return this.byHost.get(hostId) === fingerprint;
  }

  forget(hostId: string | null | undefined): void {
    if (hostId != null) this.byHost.delete(hostId);
  }
}
