/** `VmState`: a VM's state before or after a transition. */
import { builder } from './builder.js';
import { VmLocationEnum, VmStatusEnum } from './enums.js';

builder.objectType('VmState', {
  description: "A VM's state as a transition shows it, before or after.",
  fields: (t) => ({
    status: t.field({ type: VmStatusEnum, description: 'Its status.', resolve: (s) => s.status }),
    hostId: t.exposeID('hostId', { nullable: true, description: 'Where it runs (the source while it migrates); null when DOWN or not known.' }),
    location: t.field({ type: VmLocationEnum, nullable: true, description: 'Where it runs relative to its migration; null when not migrating.', resolve: (s) => s.location }),
  }),
});
