import type { ControllerGetCapabilitiesResponse } from '../../generated/csi/v1/ControllerGetCapabilitiesResponse.js';
import type { ControllerServiceCapability } from '../../generated/csi/v1/ControllerServiceCapability.js';
import { CONTROLLER_CAPABILITIES } from '../capabilities.js';

/** ControllerGetCapabilities: exactly the list in services/capabilities.ts (what works and is tested). */
export function getCapabilitiesHandler() {
  return (): Promise<ControllerGetCapabilitiesResponse> => {
    const capabilities: ControllerServiceCapability[] = CONTROLLER_CAPABILITIES.map((type) => ({
      type: 'rpc',
      rpc: { type: type as NonNullable<ControllerServiceCapability['rpc']>['type'] },
    }));
    return Promise.resolve({ capabilities });
  };
}
