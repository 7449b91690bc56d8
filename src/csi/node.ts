import type { VolumeUsage } from '../generated/csi/v1/VolumeUsage.js';
import { NODE_CAPABILITIES } from '../services/capabilities.js';
import type { NodeOperations } from '../services/node/index.js';
import type { Usage } from '../services/node/requests.js';
import { TOPOLOGY_ZONE_KEY } from '../util/package-info.js';
import {
  parseExpandRequest,
  parsePublishRequest,
  parseStageRequest,
  parseStatsRequest,
  parseUnpublishRequest,
  parseUnstageRequest,
} from './node-requests.js';
import type { Implemented, NodeRpcs } from './service-types.js';

/**
 * The CSI Node service over the node's use cases: each RPC's request is validated into the
 * service's own type here (node-requests.ts), and the answer turned back into the proto's.
 */
export function nodeRpcs(node: NodeOperations): Implemented<NodeRpcs> {
  return {
    NodeGetInfo: () => {
      const info = node.info();
      return Promise.resolve({
        node_id: info.nodeId,
        ...(info.maxVolumesPerNode !== undefined ? { max_volumes_per_node: String(info.maxVolumesPerNode) } : {}),
        ...(info.zone ? { accessible_topology: { segments: { [TOPOLOGY_ZONE_KEY]: info.zone } } } : {}),
      });
    },
    NodeGetCapabilities: () => Promise.resolve({ capabilities: NODE_CAPABILITIES.map((type) => ({ rpc: { type } })) }),
    NodeStageVolume: async (req, ctx) => {
      await node.stage(parseStageRequest(req), ctx);
      return {};
    },
    NodeUnstageVolume: async (req, ctx) => {
      await node.unstage(parseUnstageRequest(req), ctx);
      return {};
    },
    NodePublishVolume: async (req, ctx) => {
      await node.publish(parsePublishRequest(req), ctx);
      return {};
    },
    NodeUnpublishVolume: async (req, ctx) => {
      await node.unpublish(parseUnpublishRequest(req), ctx);
      return {};
    },
    NodeGetVolumeStats: async (req, ctx) => {
      const stats = await node.stats(parseStatsRequest(req), ctx);
      return { usage: stats.usage.map(usageOf), volume_condition: stats.condition };
    },
    NodeExpandVolume: async (req, ctx) => {
      const { capacityBytes } = await node.expand(parseExpandRequest(req), ctx);
      return { capacity_bytes: String(capacityBytes) };
    },
  };
}

function usageOf(u: Usage): VolumeUsage {
  return {
    unit: u.unit,
    total: String(u.total),
    ...(u.available !== undefined ? { available: String(u.available) } : {}),
    ...(u.used !== undefined ? { used: String(u.used) } : {}),
  };
}
