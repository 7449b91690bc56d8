import type { IdentityService } from '../services/identity.js';
import { CONTROLLER_LOCKS, NODE_LOCKS } from './lock-policy.js';
import { loadCsi } from './proto.js';
import type { Handlers, ServiceBinding } from './server.js';

/** Thin adapters from the proto services to the use-case services. */
export function identityBinding(identity: IdentityService): ServiceBinding {
  return {
    definition: loadCsi().Identity.service,
    handlers: {
      GetPluginInfo: () => identity.getPluginInfo(),
      GetPluginCapabilities: () => identity.getPluginCapabilities(),
      Probe: () => identity.probe(),
    },
  };
}

/** Handlers keyed by RPC name; RPCs not given answer UNIMPLEMENTED through the wrapper. */
export function controllerBinding(handlers: Handlers): ServiceBinding {
  return { definition: loadCsi().Controller.service, handlers, policies: CONTROLLER_LOCKS };
}

export function nodeBinding(handlers: Handlers): ServiceBinding {
  return { definition: loadCsi().Node.service, handlers, policies: NODE_LOCKS };
}
