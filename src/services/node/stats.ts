import { blockdevSizeBytes } from '../../host/block-device.js';
import type { MountInfo } from '../../host/mountinfo.js';
import { statsOf } from '../../host/filesystem.js';
import type { NodeGetVolumeStatsRequest__Output } from '../../generated/csi/v1/NodeGetVolumeStatsRequest.js';
import type { NodeGetVolumeStatsResponse } from '../../generated/csi/v1/NodeGetVolumeStatsResponse.js';
import type { VolumeCondition } from '../../generated/csi/v1/VolumeCondition.js';
import type { VolumeUsage } from '../../generated/csi/v1/VolumeUsage.js';
import type { RpcContext } from '../../util/context.js';
import { errorMessage, notFound } from '../../util/errors.js';
import { blockRdev, isSameBlockDevice, pathKind } from './devices.js';
import { resolveUnderKubelet, resolveVolumePath } from './paths.js';
import { requireVolumeId } from './requests.js';
import type { NodeRuntime } from './runtime.js';
import { findStash, type Stash } from './stash.js';

const OK: VolumeCondition = { abnormal: false, message: 'volume is healthy' };

/**
 * NodeGetVolumeStats: usage of a published (or staged) volume and its condition. A volume is
 * known by its stage record (through staging_target_path, or volume_path when that is the
 * staging path) or by a mount at volume_path; neither → NOT_FOUND. The condition turns
 * abnormal, with the reason, when the path is no longer a mount, the device is gone, or the
 * file system went read-only under a writable publish (ext4 errors=remount-ro).
 */
export async function nodeGetVolumeStats(
  rt: NodeRuntime,
  req: NodeGetVolumeStatsRequest__Output,
  ctx: RpcContext,
): Promise<NodeGetVolumeStatsResponse> {
  const volumeId = requireVolumeId(req.volume_id);
  const volumePath = await resolveVolumePath('volume_path', req.volume_path, rt.kubeletDir);
  const kind = await pathKind(volumePath);
  if (kind === undefined) throw notFound(`volume_path ${volumePath} does not exist`);

  const stash = await stashFor(rt, volumeId, req.staging_target_path || undefined, volumePath);
  const mount = await rt.mounter.mountInfo(volumePath);
  if (!stash && !mount) throw notFound(`volume ${volumeId} is not staged or published at ${volumePath}`);

  // Without the stage record, a published block target is a file — or, while bind-mounted, the
  // device node itself (lstat sees a block device): anything but a directory.
  const isBlock = stash ? stash.accessType === 'block' : kind !== 'directory';
  return isBlock ? blockStats(rt, volumePath, mount, stash, ctx) : mountStats(volumePath, mount, stash);
}

async function stashFor(rt: NodeRuntime, volumeId: string, stagingRaw: string | undefined, volumePath: string): Promise<Stash | undefined> {
  const stagingPath = stagingRaw ? await resolveUnderKubelet('staging_target_path', stagingRaw, rt.kubeletDir) : volumePath;
  const mounted = await rt.mounter.isMountPoint(stagingPath);
  const found = await findStash(stagingPath, { stagingMounted: mounted });
  if (found && found.stash.volumeId !== volumeId) {
    throw notFound(`${stagingPath} holds volume ${found.stash.volumeId}, not ${volumeId}`);
  }
  return found?.stash;
}

async function mountStats(volumePath: string, mount: MountInfo | undefined, stash: Stash | undefined): Promise<NodeGetVolumeStatsResponse> {
  if (!mount) {
    return { usage: [], volume_condition: { abnormal: true, message: `${volumePath} is no longer a mount point` } };
  }
  let condition = OK;
  if (stash && (await blockRdev(stash.device)) === undefined) {
    condition = { abnormal: true, message: `device ${stash.device} of the volume is gone` };
  } else if (mount.superOptions.includes('ro') && stash && !stash.readOnly && stash.connection.accessMode !== 'ro' && !(stash.mountFlags ?? []).includes('ro')) {
    condition = { abnormal: true, message: `the ${mount.fsType} file system on ${mount.source} went read-only (I/O or file system errors?)` };
  }
  const s = await statsOf(volumePath);
  const usage: VolumeUsage[] = [
    { unit: 'BYTES', total: String(s.totalBytes), available: String(s.availableBytes), used: String(s.usedBytes) },
    { unit: 'INODES', total: String(s.totalInodes), available: String(s.freeInodes), used: String(s.usedInodes) },
  ];
  return { usage, volume_condition: condition };
}

async function blockStats(
  rt: NodeRuntime,
  volumePath: string,
  mount: MountInfo | undefined,
  stash: Stash | undefined,
  ctx: RpcContext,
): Promise<NodeGetVolumeStatsResponse> {
  const device = stash?.device;
  // A block target is a bind mount of the device node onto a file; the staging path of a
  // block volume holds no mount at all, only the record.
  const isStagingPath = stash !== undefined && stash.stagingPath === volumePath;
  if (!isStagingPath && !mount) {
    return { usage: [], volume_condition: { abnormal: true, message: `${volumePath} is no longer a mount point` } };
  }
  const subject = isStagingPath ? device : volumePath;
  if (!subject || (await blockRdev(subject)) === undefined || (device && !isStagingPath && !(await isSameBlockDevice(volumePath, device)))) {
    return { usage: [], volume_condition: { abnormal: true, message: `the device of the volume${device ? ` (${device})` : ''} is gone` } };
  }
  try {
    const total = await blockdevSizeBytes(rt.exec, subject, ctx.signal);
    return { usage: [{ unit: 'BYTES', total: String(total) }], volume_condition: OK };
  } catch (err) {
    return { usage: [], volume_condition: { abnormal: true, message: `cannot read the size of ${subject}: ${errorMessage(err)}` } };
  }
}
