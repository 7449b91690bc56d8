/**
 * The one place that says what this plugin advertises. A capability is listed here only when
 * the feature behind it works and is tested; the conformance suite checks each one is exercised.
 */
export type Mode = 'controller' | 'node' | 'all';

export const PLUGIN_CAPABILITIES_CONTROLLER = ['CONTROLLER_SERVICE', 'VOLUME_ACCESSIBILITY_CONSTRAINTS', 'GROUP_CONTROLLER_SERVICE'] as const;
export const PLUGIN_EXPANSION = ['ONLINE', 'OFFLINE'] as const;

/** ControllerServiceCapability.RPC.Type values implemented by services/controller. */
export const CONTROLLER_CAPABILITIES: readonly string[] = [
  'CREATE_DELETE_VOLUME',
  'PUBLISH_UNPUBLISH_VOLUME',
  'LIST_VOLUMES',
  'LIST_VOLUMES_PUBLISHED_NODES',
  'GET_CAPACITY',
  'CREATE_DELETE_SNAPSHOT',
  'LIST_SNAPSHOTS',
  'CLONE_VOLUME',
  'EXPAND_VOLUME',
  'PUBLISH_READONLY',
  'GET_VOLUME',
  'VOLUME_CONDITION',
  'SINGLE_NODE_MULTI_WRITER',
  'MODIFY_VOLUME',
  // GetSnapshot is implemented (CSI 1.12) but GET_SNAPSHOT is not advertised: the upstream
  // csi-sanity v5.3.1 this driver is tested with fails a plugin that lists a capability it does
  // not know, and no Kubernetes component calls GetSnapshot yet.
];

/** GroupControllerServiceCapability.RPC.Type values implemented by services/controller (group-snapshots.ts). */
export const GROUP_CONTROLLER_CAPABILITIES = ['CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT'] as const;

/** NodeServiceCapability.RPC.Type values implemented by services/node. */
export const NODE_CAPABILITIES = ['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS', 'EXPAND_VOLUME', 'VOLUME_CONDITION', 'SINGLE_NODE_MULTI_WRITER'] as const;

export function runsController(mode: Mode): boolean {
  return mode === 'controller' || mode === 'all';
}

export function runsNode(mode: Mode): boolean {
  return mode === 'node' || mode === 'all';
}
