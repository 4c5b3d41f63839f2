/** `EvacuationMove`: one move of an evacuation plan. */
import { builder } from './builder.js';
import { vmNamed } from './evacuation-blocker.js';
import { hostOf } from './evacuation.js';

builder.objectType('EvacuationMove', {
  description: 'Where one VM would go if the evacuation started now.',
  fields: (t) => ({
    vmId: t.exposeID('vmId', { description: 'Id of the VM.' }),
    vm: t.field({ type: 'Vm', description: 'The VM, as it is now.', resolve: (m, _args, { table }) => vmNamed(table, m.vmId) }),
    destinationHostId: t.exposeID('destinationHostId', { description: 'Id of the host it would go to.' }),
    destination: t.field({ type: 'Host', description: 'The host it would go to.', resolve: (m, _args, { table }) => hostOf(table, m.destinationHostId) }),
  }),
});
