import type { ControllerServiceCapability } from '../generated/csi/v1/ControllerServiceCapability.js';
import type { Snapshot } from '../generated/csi/v1/Snapshot.js';
import type { Volume } from '../generated/csi/v1/Volume.js';
import type { VolumeContentSource } from '../generated/csi/v1/VolumeContentSource.js';
import { CONTROLLER_CAPABILITIES } from '../services/capabilities.js';
import type { ControllerOperations } from '../services/controller/index.js';
import type { ContentSource, SnapshotView, VolumeStatus, VolumeView } from '../services/controller/requests.js';
import {
  parseCreateSnapshot,
  parseCreateVolume,
  parseExpand,
  parseGetCapacity,
  parseListSnapshots,
  parseListVolumes,
  parsePublish,
  parseUnpublish,
  parseValidate,
  requireId,
} from './controller-requests.js';
import type { ControllerRpcs, Implemented } from './service-types.js';


/**
 * The CSI Controller service over the controller's use cases: each RPC's request is validated
 * into the service's own type here (controller-requests.ts), and the answer turned back into the
 * proto's (int64 as decimal strings, timestamps, topology segments).
 */
export function controllerRpcs(c: ControllerOperations): Implemented<ControllerRpcs> {
  return {
    CreateVolume: async (req, ctx) => ({ volume: volumeOf(await c.createVolume(parseCreateVolume(req), ctx)) }),
    DeleteVolume: async (req, ctx) => {
      await c.deleteVolume(requireId(req.volume_id, 'volume_id'), ctx);
      return {};
    },
    ControllerPublishVolume: async (req, ctx) => ({ publish_context: await c.publish(parsePublish(req), ctx) }),
    ControllerUnpublishVolume: async (req, ctx) => {
      await c.unpublish(parseUnpublish(req), ctx);
      return {};
    },
    ValidateVolumeCapabilities: async (req, ctx) => {
      const v = await c.validate(parseValidate(req), ctx);
      if (!v.confirmed) return { message: v.message };
      // Confirmed: what was asked, echoed.
      return {
        confirmed: {
          volume_context: req.volume_context ?? {},
          volume_capabilities: req.volume_capabilities ?? [],
          parameters: req.parameters ?? {},
          mutable_parameters: req.mutable_parameters ?? {},
        },
      };
    },
    ListVolumes: async (req, ctx) => {
      const page = await c.listVolumes(parseListVolumes(req), ctx);
      return { entries: page.entries.map((e) => ({ volume: volumeOf(e.volume), status: statusOf(e.status) })), next_token: page.nextToken };
    },
    GetCapacity: async (req, ctx) => {
      const cap = await c.capacity(parseGetCapacity(req), ctx);
      return {
        available_capacity: String(cap.availableBytes),
        ...(cap.maximumVolumeBytes !== undefined ? { maximum_volume_size: { value: String(cap.maximumVolumeBytes) } } : {}),
        ...(cap.minimumVolumeBytes !== undefined ? { minimum_volume_size: { value: String(cap.minimumVolumeBytes) } } : {}),
      };
    },
    ControllerGetCapabilities: () => {
      const capabilities: ControllerServiceCapability[] = CONTROLLER_CAPABILITIES.map((type) => ({
        type: 'rpc',
        rpc: { type: type as NonNullable<ControllerServiceCapability['rpc']>['type'] },
      }));
      return Promise.resolve({ capabilities });
    },
    CreateSnapshot: async (req, ctx) => ({ snapshot: snapshotOf(await c.createSnapshot(parseCreateSnapshot(req), ctx)) }),
    DeleteSnapshot: async (req, ctx) => {
      await c.deleteSnapshot(requireId(req.snapshot_id, 'snapshot_id'), ctx);
      return {};
    },
    ListSnapshots: async (req, ctx) => {
      const page = await c.listSnapshots(parseListSnapshots(req), ctx);
      return { entries: page.entries.map((s) => ({ snapshot: snapshotOf(s) })), next_token: page.nextToken };
    },
    ControllerExpandVolume: async (req, ctx) => {
      const r = await c.expand(parseExpand(req), ctx);
      return { capacity_bytes: String(r.capacityBytes), node_expansion_required: r.nodeExpansionRequired };
    },
    ControllerGetVolume: async (req, ctx) => {
      const e = await c.getVolume(requireId(req.volume_id, 'volume_id'), ctx);
      return { volume: volumeOf(e.volume), status: statusOf(e.status) };
    },
    GetSnapshot: async (req, ctx) => ({ snapshot: snapshotOf(await c.getSnapshot(requireId(req.snapshot_id, 'snapshot_id'), ctx)) }),
    ControllerModifyVolume: async (req, ctx) => {
      await c.modifyVolume({ volumeId: requireId(req.volume_id, 'volume_id'), mutableParameters: req.mutable_parameters ?? {} }, ctx);
      return {};
    },
  };
}

function sourceOf(s: ContentSource | undefined): VolumeContentSource | null {
  if (!s) return null;
  return s.kind === 'snapshot' ? { type: 'snapshot', snapshot: { snapshot_id: s.id } } : { type: 'volume', volume: { volume_id: s.id } };
}

function volumeOf(v: VolumeView): Volume {
  return {
    volume_id: v.volumeId,
    capacity_bytes: String(v.capacityBytes),
    volume_context: v.context,
    content_source: sourceOf(v.source),
    accessible_topology: v.topology.map((segments) => ({ segments })),
  };
}

function statusOf(s: VolumeStatus): { published_node_ids: string[]; volume_condition: { abnormal: boolean; message: string } } {
  return { published_node_ids: s.publishedNodeIds, volume_condition: s.condition };
}

export function snapshotOf(s: SnapshotView): Snapshot {
  return {
    snapshot_id: s.snapshotId,
    source_volume_id: s.sourceVolumeId,
    size_bytes: String(s.sizeBytes),
    creation_time: s.createdAt ? { seconds: String(Math.floor(s.createdAt.ms / 1000)), nanos: s.createdAt.nanos } : null,
    ready_to_use: s.readyToUse,
    ...(s.groupSnapshotId ? { group_snapshot_id: s.groupSnapshotId } : {}),
  };
}
