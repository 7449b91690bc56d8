import { blockdevSizeBytes } from '../../host/block-device.js';
import type { MountInfo } from '../../host/mountinfo.js';
import { statsOf } from '../../host/filesystem.js';
import type { RpcContext } from '../../util/context.js';
import { errorMessage, notFound } from '../../util/errors.js';
import { blockRdev, isSameBlockDevice, pathKind } from './devices.js';
import { resolveUnderKubelet, resolveVolumePath } from './paths.js';
import type { StatsRequest, Usage, VolumeStats } from './requests.js';
import type { NodeRuntime } from './runtime.js';
import { findStash, type Stash } from './stash.js';

const OK: VolumeStats['condition'] = { abnormal: false, message: 'volume is healthy' };

/**
 * NodeGetVolumeStats: usage of a published (or staged) volume and its condition. A volume is
 * known by its stage record (through staging_target_path, or volume_path when that is the
 * staging path) or by a mount at volume_path; neither → NOT_FOUND. The condition turns
 * abnormal, with the reason, when the path is no longer a mount, the device is gone, or the
 * file system went read-only under a writable publish (ext4 errors=remount-ro).
 */
export async function nodeGetVolumeStats(
  rt: NodeRuntime,
  req: StatsRequest,
  ctx: RpcContext,
): Promise<VolumeStats> {
  const { volumeId } = req;
  const volumePath = await resolveVolumePath('volume_path', req.volumePath, rt.kubeletDir);
  const kind = await pathKind(volumePath);
  if (kind === undefined) throw notFound(`volume_path ${volumePath} does not exist`);

  const stash = await stashFor(rt, volumeId, req.stagingTargetPath, volumePath);
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

async function mountStats(volumePath: string, mount: MountInfo | undefined, stash: Stash | undefined): Promise<VolumeStats> {
  if (!mount) {
    return { usage: [], condition: { abnormal: true, message: `${volumePath} is no longer a mount point` } };
  }
  let condition = OK;
  if (stash && (await blockRdev(stash.device)) === undefined) {
    condition = { abnormal: true, message: `device ${stash.device} of the volume is gone` };
  } else if (mount.superOptions.includes('ro') && stash && !stash.readOnly && stash.connection.accessMode !== 'ro' && !(stash.mountFlags ?? []).includes('ro')) {
    condition = { abnormal: true, message: `the ${mount.fsType} file system on ${mount.source} went read-only (I/O or file system errors?)` };
  }
  const s = await statsOf(volumePath);
  const usage: Usage[] = [
    { unit: 'BYTES', total: s.totalBytes, available: s.availableBytes, used: s.usedBytes },
    { unit: 'INODES', total: s.totalInodes, available: s.freeInodes, used: s.usedInodes },
  ];
  return { usage, condition: condition };
}

async function blockStats(
  rt: NodeRuntime,
  volumePath: string,
  mount: MountInfo | undefined,
  stash: Stash | undefined,
  ctx: RpcContext,
): Promise<VolumeStats> {
  const device = stash?.device;
  // A block target is a bind mount of the device node onto a file; the staging path of a
  // block volume holds no mount at all, only the record.
  const isStagingPath = stash !== undefined && stash.stagingPath === volumePath;
  if (!isStagingPath && !mount) {
    return { usage: [], condition: { abnormal: true, message: `${volumePath} is no longer a mount point` } };
  }
  const subject = isStagingPath ? device : volumePath;
  if (!subject || (await blockRdev(subject)) === undefined || (device && !isStagingPath && !(await isSameBlockDevice(volumePath, device)))) {
    return { usage: [], condition: { abnormal: true, message: `the device of the volume${device ? ` (${device})` : ''} is gone` } };
  }
  try {
    const total = await blockdevSizeBytes(rt.exec, subject, ctx.signal);
    return { usage: [{ unit: 'BYTES', total }], condition: OK };
  } catch (err) {
    return { usage: [], condition: { abnormal: true, message: `cannot read the size of ${subject}: ${errorMessage(err)}` } };
  }
}
