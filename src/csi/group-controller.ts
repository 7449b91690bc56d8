import type { VolumeGroupSnapshot } from '../generated/csi/v1/VolumeGroupSnapshot.js';
import { GROUP_CONTROLLER_CAPABILITIES } from '../services/capabilities.js';
import type { ControllerOperations } from '../services/controller/index.js';
import type { GroupSnapshotView } from '../services/controller/requests.js';
import { invalidArgument } from '../util/errors.js';
import { requireId, requireName } from './controller-requests.js';
import { snapshotOf } from './controller.js';
import type { GroupControllerRpcs, Implemented } from './service-types.js';

/**
 * The CSI GroupController service (VolumeGroupSnapshots) over the controller's use cases; it
 * runs wherever the controller runs. Requests are validated here, answers turned into protos.
 */
export function groupControllerRpcs(c: ControllerOperations): Implemented<GroupControllerRpcs> {
  return {
    GroupControllerGetCapabilities: () => Promise.resolve({ capabilities: GROUP_CONTROLLER_CAPABILITIES.map((type) => ({ type: 'rpc' as const, rpc: { type } })) }),
    CreateVolumeGroupSnapshot: async (req, ctx) => {
      const name = requireName(req.name);
      const ids = req.source_volume_ids ?? [];
      if (ids.length === 0) throw invalidArgument('source_volume_ids must name at least one volume');
      ids.forEach((id, i) => requireId(id, `source_volume_ids[${i}]`));
      if (new Set(ids).size !== ids.length) throw invalidArgument('source_volume_ids names a volume twice');
      const view = await c.createGroupSnapshot({ name, sourceVolumeIds: ids, parameters: req.parameters ?? {} }, ctx);
      return { group_snapshot: groupSnapshotOf(view) };
    },
    DeleteVolumeGroupSnapshot: async (req, ctx) => {
      await c.deleteGroupSnapshot(requireId(req.group_snapshot_id, 'group_snapshot_id'), ctx);
      return {};
    },
    GetVolumeGroupSnapshot: async (req, ctx) => ({ group_snapshot: groupSnapshotOf(await c.getGroupSnapshot(requireId(req.group_snapshot_id, 'group_snapshot_id'), ctx)) }),
  };
}

function groupSnapshotOf(g: GroupSnapshotView): VolumeGroupSnapshot {
  return {
    group_snapshot_id: g.groupSnapshotId,
    snapshots: g.snapshots.map(snapshotOf),
    creation_time: g.createdAt ? { seconds: String(Math.floor(g.createdAt.ms / 1000)), nanos: g.createdAt.nanos } : null,
    ready_to_use: g.readyToUse,
  };
}
