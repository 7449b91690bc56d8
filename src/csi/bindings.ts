import type { IdentityService } from '../services/identity.js';
import { CONTROLLER_LOCKS, GROUP_CONTROLLER_LOCKS, NODE_LOCKS } from './lock-policy.js';
import { loadCsi } from './proto.js';
import type { Handlers, Policies, ServiceBinding } from './server.js';
import { UNIMPLEMENTED, type ControllerRpcs, type GroupControllerRpcs, type IdentityRpcs, type NodeRpcs, type ServiceHandlers } from './service-types.js';

/** Thin adapters from the proto services to the use-case services. */
export function identityBinding(identity: IdentityService): ServiceBinding {
  const handlers: IdentityRpcs = {
    GetPluginInfo: () => identity.getPluginInfo(),
    GetPluginCapabilities: () => identity.getPluginCapabilities(),
    Probe: () => identity.probe(),
  };
  return { definition: loadCsi().Identity.service, handlers: untyped(handlers) };
}

/** A controller that does not run in this mode: every RPC answers UNIMPLEMENTED. */
export function controllerBinding(handlers: ControllerRpcs | undefined): ServiceBinding {
  return { definition: loadCsi().Controller.service, handlers: handlers ? untyped(handlers) : {}, policies: CONTROLLER_LOCKS as Policies };
}

/** The group controller runs with the controller; elsewhere every RPC answers UNIMPLEMENTED. */
export function groupControllerBinding(handlers: GroupControllerRpcs | undefined): ServiceBinding {
  return { definition: loadCsi().GroupController.service, handlers: handlers ? untyped(handlers) : {}, policies: GROUP_CONTROLLER_LOCKS as Policies };
}

export function nodeBinding(handlers: NodeRpcs | undefined): ServiceBinding {
  return { definition: loadCsi().Node.service, handlers: handlers ? untyped(handlers) : {}, policies: NODE_LOCKS as Policies };
}

/** The typed map as the server's by-name table; UNIMPLEMENTED entries are left out (the wrapper answers for them). */
function untyped<S>(handlers: ServiceHandlers<S>): Handlers {
  const out: Handlers = {};
  for (const [name, h] of Object.entries(handlers) as Array<[string, unknown]>) {
    if (h !== UNIMPLEMENTED) out[name] = h as Handlers[string];
  }
  return out;
}
