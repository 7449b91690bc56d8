import type { ControllerPolicies, GroupControllerPolicies, NodePolicies } from './service-types.js';

/**
 * Which keys each RPC holds (architecture §6). Controller and node keys live in separate namespaces:
 * in `all` mode ControllerPublish and NodeStage of one volume may legitimately overlap.
 */
const keys = (...ks: string[]) => ks.filter((k) => !k.endsWith(':'));

const byVolume = (prefix: string) => ({ lockKeys: (r: { volume_id?: string }) => keys(`${prefix}${r.volume_id ?? ''}`) });

export const CONTROLLER_LOCKS: ControllerPolicies = {
  CreateVolume: { lockKeys: (r) => keys(`name:${r.name ?? ''}`) },
  DeleteVolume: byVolume('vol:'),
  ControllerPublishVolume: byVolume('vol:'),
  ControllerUnpublishVolume: byVolume('vol:'),
  ControllerExpandVolume: byVolume('vol:'),
  ControllerModifyVolume: byVolume('vol:'),
  CreateSnapshot: { lockKeys: (r) => keys(`snapname:${r.name ?? ''}`) },
  DeleteSnapshot: { lockKeys: (r) => keys(`snap:${r.snapshot_id ?? ''}`) },
};

export const GROUP_CONTROLLER_LOCKS: GroupControllerPolicies = {
  CreateVolumeGroupSnapshot: { lockKeys: (r) => keys(`groupsnapname:${r.name ?? ''}`) },
  DeleteVolumeGroupSnapshot: { lockKeys: (r) => keys(`groupsnap:${r.group_snapshot_id ?? ''}`) },
};

export const NODE_LOCKS: NodePolicies = {
  NodeStageVolume: byVolume('node-vol:'),
  NodeUnstageVolume: byVolume('node-vol:'),
  NodePublishVolume: byVolume('node-vol:'),
  NodeUnpublishVolume: byVolume('node-vol:'),
  NodeExpandVolume: byVolume('node-vol:'),
};
