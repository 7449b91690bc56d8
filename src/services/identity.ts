import { DRIVER_NAME, packageInfo } from '../util/package-info.js';
import { PLUGIN_CAPABILITIES_CONTROLLER, PLUGIN_EXPANSION, runsController, type Mode } from './capabilities.js';

export interface PluginCapability {
  service?: { type: (typeof PLUGIN_CAPABILITIES_CONTROLLER)[number] };
  volume_expansion?: { type: (typeof PLUGIN_EXPANSION)[number] };
}

/** A local readiness check; never reaches Cinder (a cloud outage must not restart plugins). */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export class IdentityService {
  /**
   * `nodeTopology`: whether the node half (in `all` mode) reports a zone in NodeGetInfo. The
   * accessibility constraint is advertised only where it is kept: a controller alone (its nodes
   * report their own), or `all` mode with a zone — never a promise NodeGetInfo then breaks.
   */
  constructor(
    private readonly mode: Mode,
    private readonly ready: ReadinessCheck = () => true,
    private readonly expansionSupported: () => boolean = () => false,
    private readonly nodeTopology = false,
  ) {}

  getPluginInfo(): Promise<{ name: string; vendor_version: string; manifest: Record<string, string> }> {
    return Promise.resolve({
      name: DRIVER_NAME,
      vendor_version: packageInfo().version,
      manifest: { mode: this.mode },
    });
  }

  getPluginCapabilities(): Promise<{ capabilities: PluginCapability[] }> {
    const capabilities: PluginCapability[] = [];
    if (runsController(this.mode)) {
      for (const type of PLUGIN_CAPABILITIES_CONTROLLER) {
        if (type === 'VOLUME_ACCESSIBILITY_CONSTRAINTS' && this.mode === 'all' && !this.nodeTopology) continue;
        capabilities.push({ service: { type } });
      }
      if (this.expansionSupported()) {
        for (const type of PLUGIN_EXPANSION) capabilities.push({ volume_expansion: { type } });
      }
    }
    return Promise.resolve({ capabilities });
  }

  async probe(): Promise<{ ready: { value: boolean } }> {
    return { ready: { value: await this.ready() } };
  }
}
