/** `EvacuationBlocker`: a VM an evacuation cannot move, or is held back on, and why. */
import type { Vm } from '../domain/model.js';
import { builder, type TableView } from './builder.js';

/** A VM an evacuation names: the table never forgets a VM it has heard of. */
export function vmNamed(table: TableView, vmId: string): Vm {
  const vm = table.vm(vmId);
  if (vm === undefined) throw new Error(`VM ${vmId} is not known to the table`);
  return vm;
}

builder.objectType('EvacuationBlocker', {
  description: 'A VM an evacuation cannot move, or waits on, with the reason in words.',
  fields: (t) => ({
    vmId: t.exposeID('vmId', { description: 'Id of the VM.' }),
    vm: t.field({ type: 'Vm', description: 'The VM, as it is now.', resolve: (b, _args, { table }) => vmNamed(table, b.vmId) }),
    reason: t.exposeString('reason', { description: 'Why it does not move: no eligible host, how its migration ended, its host not answering, its migration stalled.' }),
  }),
});
