/**
 * What one command of the table changed, in order: its transitions, events and host orders. The
 * rules write here; the table appends them to its logs and hands them to its listeners once the
 * command is done, so a listener never sees a half-applied command.
 */
import { Interned } from '../interned.js';
import type { EngineEvent, HostCommand, Migration, Millis, Transition, VmState } from '../model.js';
import type { HostRecord, VmRecord } from './table-state.js';
import { EVENT_SEVERITY, type Cause, type EventType, type HostCommandKind, type HostStatus, type Severity } from '../vocabulary.js';

/**
 * What transitions keep is shared where it repeats: a VM's state (its status, host and location:
 * a few per host) and the list of hosts a change concerns. The history holds up to
 * `TRANSIT_HISTORY_LIMIT` transitions and events, each with these; built anew they cost about 130 B
 * per transition (the memory benchmark). Both are immutable (interned.ts).
 */
const states = new Interned<VmState>(50_000);
const hostLists = new Interned<readonly string[]>(50_000);
const NO_HOSTS: readonly string[] = Object.freeze([]);

export const vmStateOf = (vm: VmRecord): VmState =>
  states.of(`${vm.status}\u0000${vm.hostId ?? ''}\u0000${vm.location ?? ''}`, () => ({ status: vm.status, hostId: vm.hostId, location: vm.location }));

const sameVmState = (a: VmState, b: VmState) => a.status === b.status && a.hostId === b.hostId && a.location === b.location;

/** The hosts named, each once, in order, as one shared list. */
function distinctHosts(...hostIds: (string | null | undefined)[]): readonly string[] {
  const named: string[] = [];
  for (const h of hostIds) if (h != null && !named.includes(h)) named.push(h);
  return named.length === 0 ? NO_HOSTS : hostLists.of(named.join('\u0000'), () => named);
}

/** An order for a migration's source, as a host agent receives it. */
export function commandOf(kind: HostCommandKind, entry: Migration, issuedAt: Millis): HostCommand {
  return {
    kind,
    hostId: entry.source.hostId as string,
    migrationId: entry.id,
    vmId: entry.vmId,
    destinationHostId: entry.destination.hostId,
    attempt: entry.attempt,
    issuedAt,
  };
}

/** A migration this command put in the queue, not yet decided by the scheduler (its first transition is recorded then). */
export interface Admission {
  /** The cause its first transition carries (`MIGRATE_COMMAND`, `RERUN`, an evacuation's, ...). */
  readonly cause: Cause;
  /** The next attempt of a migration whose attempt just failed (its VM is still in the table). */
  readonly rerun: boolean;
}

export class Recording {
  readonly transitions: Transition[] = [];
  readonly events: EngineEvent[] = [];
  readonly commands: HostCommand[] = [];
  /** VMs first heard of in this command: their first transition comes from nothing (`from: null`). */
  readonly newVms = new Set<string>();
  /** Migrations queued by this command that the scheduler has not decided yet, by migration id. */
  readonly admissions = new Map<string, Admission>();

  /**
   * `nextSeq` hands out the table's strictly increasing sequence numbers; `actor` is who caused the
   * command (docs/contract.md §10: a credential's name, `open`, or `engine`), carried by every
   * transition and event it records; `faultInjection` (tests only) sees every step recorded and may
   * throw, as a rule failing part-way would.
   */
  constructor(
    readonly now: Millis,
    private readonly nextSeq: () => number,
    readonly actor: string,
    private readonly faultInjection: ((step: Transition | EngineEvent) => void) | undefined = undefined,
  ) {}

  private push<T extends Transition | EngineEvent>(into: T[], step: T): void {
    into.push(step);
    this.faultInjection?.(step);
  }

  get isEmpty(): boolean {
    return this.transitions.length + this.events.length + this.commands.length === 0;
  }

  /**
   * A VM's change from `before` to its record's state now. Nothing is recorded when neither the VM
   * nor its entry (`migration`) changed, unless `always` (a VM that only became known).
   */
  vm(cause: Cause, vm: VmRecord, before: VmState, hostId: string | null, migration: Migration | null, always = false): void {
    const to = vmStateOf(vm);
    const from = this.newVms.delete(vm.id) ? null : before;
    if (!always && migration === null && from !== null && sameVmState(from, to)) return;
    this.push(this.transitions, {
      seq: this.nextSeq(),
      at: this.now,
      cause,
      vmId: vm.id,
      hostId,
      migration,
      from,
      to,
      hostStatusFrom: null,
      hostStatusTo: null,
      hostIds: distinctHosts(hostId, from?.hostId, to.hostId, migration?.source.hostId, migration?.destination.hostId),
      actor: this.actor,
    });
  }

  /** A host's change from `from`; `to` is its status now (null: it was removed). */
  host(cause: Cause, host: HostRecord, from: HostStatus | null, to: HostStatus | null = host.status): void {
    this.push(this.transitions, {
      seq: this.nextSeq(),
      at: this.now,
      cause,
      vmId: null,
      hostId: host.id,
      migration: null,
      from: null,
      to: null,
      hostStatusFrom: from,
      hostStatusTo: to,
      hostIds: [host.id],
      actor: this.actor,
    });
  }

  event(
    type: EventType,
    message: string,
    migration: Migration | null,
    vmId: string | null = migration?.vmId ?? null,
    hostId: string | null = migration?.source.hostId ?? null,
    severity: Severity = EVENT_SEVERITY[type],
  ): void {
    this.push(this.events, {
      seq: this.nextSeq(),
      at: this.now,
      type,
      severity,
      message,
      vmId,
      hostId,
      migrationId: migration?.id ?? null,
      hostIds: distinctHosts(hostId, migration?.source.hostId, migration?.destination.hostId),
      actor: this.actor,
    });
  }

  hostEvent(type: EventType, message: string, hostId: string): void {
    this.event(type, message, null, null, hostId);
  }

  /** An order for the entry's source; none while the source is not known. */
  command(kind: HostCommandKind, entry: Migration): void {
    if (entry.source.hostId !== null) this.commands.push(commandOf(kind, entry, this.now));
  }
}
