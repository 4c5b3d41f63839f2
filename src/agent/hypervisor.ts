/**
 * The hypervisor side of a host agent: what a real libvirt/VDSM bridge would implement, and what
 * the fleet simulator implements. The agent only reports what the adapter observes and forwards
 * orders to it; it never decides anything about a VM itself.
 */
import type { ReportedVmStatus } from '../domain/vocabulary.js';

/** One VM as the hypervisor sees it now (the shape of a `VmReportInput`). */
export interface VmObservation {
  readonly vmId: string;
  readonly status: ReportedVmStatus;
  readonly progress?: number | null;
  readonly exitReason?: string | null;
  readonly peerHostId?: string | null;
  /** The VM's memory, in MiB: Transit sizes the completion deadline of its migrations by it. */
  readonly memoryMiB?: number | null;
}

/** An order from the engine's command stream. */
export interface MigrationOrder {
  readonly kind: 'MIGRATE' | 'CANCEL';
  readonly migrationId: string;
  readonly vmId: string;
  readonly destinationHostId: string | null;
  readonly attempt: number;
  /** Clustered mode: the issuing engine's epoch (fencing token); null or absent in one process. */
  readonly epoch?: number | null;
}

export interface HypervisorAdapter {
  /** Every VM this host runs, sends or receives right now; a VM not listed is not here (DOWN). */
  observe(): VmObservation[];
  /** Starts migrating a VM away; a VM not here is ignored (the engine's start timeout covers it). */
  migrate(order: MigrationOrder): void;
  /**
   * Aborts the VM's migration in progress from this host, if any: a cancel asked by an operator, or
   * an abort Transit ordered because a deadline passed (docs/contract.md §8). Match it by VM (and
   * destination): a migration Transit found in the reports after a restart carries Transit's new id,
   * not the one of the order that started it. The VM stays here; the adapter goes on reporting
   * what it sees, and Transit decides from both hosts' reports.
   */
  cancel(order: MigrationOrder): void;
  /** Calls back with each change (a VM started, stopped, changed status or progress). Returns an unwatch function. */
  watch(onChange: (change: VmObservation) => void): () => void;
}
