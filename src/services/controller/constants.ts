import { DRIVER_NAME } from '../../util/package-info.js';

/**
 * Names this controller writes into Cinder and into CSI answers. They are part of the on-disk
 * contract: volumes made by one release must still be found by the next, so never rename them.
 */

/** Every key this driver writes starts with its name. */
const PREFIX = DRIVER_NAME;

/** Volume metadata marking a volume that lost a creation race (see create-volume.ts). */
export const META_DUPLICATE_OF = `${PREFIX}/duplicate-of`;

/** Volume/snapshot metadata: which Kubernetes cluster made the object (architecture §6). */
export const META_CLUSTER = `${PREFIX}/cluster`;

/**
 * Volume metadata prefix recording the node id the CO used for each published node. Cinder
 * only remembers the connector's host name, yet ListVolumes and ControllerGetVolume must report
 * the node ids the CO knows. One key per node, because Cinder metadata values stop at 255
 * characters and a node id alone may take 192.
 */
export const META_NODE_PREFIX = `${PREFIX}/node/`;

/**
 * Volume metadata: the CO sent accessibility requirements when it asked for this volume, so the
 * nodes report zones. Only such volumes report accessible_topology (in Create, Get and List
 * alike): a PV pinned to a zone label that no node carries would leave its pods unschedulable.
 */
export const META_TOPOLOGY = `${PREFIX}/topology`;

/**
 * volume_context key: whether Cinder made the volume multiattach ("true"|"false"). Publish trusts
 * "false" to attach without reading the volume first (Cinder refuses a second attachment of such
 * a volume by itself); PVs without it take the path that reads.
 */
export const CTX_MULTIATTACH = `${PREFIX}/multiattach`;

/**
 * volume_context key: whether the volume's iSCSI targets carry other volumes' LUNs too ("true"|
 * "false", Cinder 3.48 `shared_targets`; absent where Cinder does not say). The publish that skips
 * the read takes it from here for the node's identity check.
 */
export const CTX_SHARED_TARGETS = `${PREFIX}/shared-targets`;

/** volume_context key: the volume was made from a snapshot, a backup or a clone (value "snapshot"|"backup"|"volume"). */
export const CTX_SOURCE = `${PREFIX}/source`;

/**
 * Volume metadata: the Cinder backup the volume was restored from. Cinder's volume view does
 * not say (there is no `backup_id` field), yet ListVolumes, retries of CreateVolume and the
 * volume's content source need it.
 */
export const META_SOURCE_BACKUP = `${PREFIX}/source-backup`;

/**
 * The description of every volume, snapshot and backup this driver creates. It also marks a
 * restored volume as this cluster's while its metadata is not: Cinder's backup service replaces
 * a restored volume's metadata with the backed-up volume's (name and description stay).
 */
export function ownDescription(clusterId: string): string {
  return `Created by cinder-metal-csi for cluster ${clusterId}`;
}

/** Cinder's minimum and the CSI unit we round to. */
export const GIB = 1024n ** 3n;

/** Accepted Cinder metadata key and value lengths (Cinder rejects longer ones). */
export const CINDER_META_MAX = 255;
