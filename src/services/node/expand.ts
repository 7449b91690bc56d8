import { connectorFor } from '../../brick/connectors.js';
import type { RpcContext } from '../../util/context.js';
import { failedPrecondition, notFound } from '../../util/errors.js';
import { mountOfDeviceAt, pathKind, sameFilesystem } from './devices.js';
import { resolveUnderKubelet, resolveVolumePath } from './paths.js';
import type { ExpandRequest } from './requests.js';
import type { NodeRuntime } from './runtime.js';
import { findStash, type Stash } from './stash.js';
import { listStashes } from './orphans.js';
import type { MountInfo } from '../../host/mountinfo.js';
import { verifyIdentity } from './identity-check.js';

/**
 * NodeExpandVolume: make the host see the new size (iSCSI rescan / multipathd resize, krbd
 * follows by itself, `losetup -c` for a loop device), check that the device really grew to
 * what the CO asked for — growing a file system onto a device that did not grow is a no-op at
 * best — then grow the mounted file system online. Block volumes need no file system step.
 * Everything comes from the stage record.
 */
export async function nodeExpand(
  rt: NodeRuntime,
  req: ExpandRequest,
  ctx: RpcContext,
): Promise<{ capacityBytes: number }> {
  const { volumeId, capability: cap } = req;
  const volumePath = await resolveVolumePath('volume_path', req.volumePath, rt.kubeletDir);
  const { requiredBytes } = req.capacity;
  if ((await pathKind(volumePath)) === undefined) throw notFound(`volume_path ${volumePath} does not exist`);

  const stash = req.stagingTargetPath
    ? await stashAt(rt, await resolveUnderKubelet('staging_target_path', req.stagingTargetPath, rt.kubeletDir))
    : await stashBehind(rt, volumePath, volumeId);
  if (!stash || stash.volumeId !== volumeId) throw notFound(`volume ${volumeId} is not staged on this node (no stage record found)`);
  const log = ctx.log.child({ volumeId, volumePath });

  const connector = connectorFor(stash.connection, rt.connectors);
  const device = await connector.findDevice(stash.connection, { signal: ctx.signal });
  if (!device) throw failedPrecondition(`volume ${volumeId} is not connected to this node; stage it again`);
  verifyIdentity(volumeId, stash.connection, device, stash.wwn);
  const size = await connector.extend(stash.connection, device, { signal: ctx.signal });
  if (requiredBytes !== undefined && size < requiredBytes) {
    throw failedPrecondition(
      `device ${device.path} of volume ${volumeId} is ${size} bytes after a rescan, below the required ${requiredBytes} bytes; ` +
        'has the controller expanded the volume yet?',
    );
  }

  const isBlock = (cap?.accessType ?? stash.accessType) === 'block';
  if (!isBlock) {
    const fsType = stash.fsType ?? 'ext4';
    if (!(await mountOfDeviceAt(rt.mounter, device.path, stash.stagingPath))) {
      throw failedPrecondition(`volume ${volumeId} is not mounted at ${stash.stagingPath}; cannot grow its file system`);
    }
    await rt.filesystem.resize(device.path, stash.stagingPath, fsType, { signal: ctx.signal });
    log.info({ device: device.path, fsType, sizeBytes: size }, 'file system grown');
  } else {
    log.info({ device: device.path, sizeBytes: size }, 'block volume rescanned');
  }
  return { capacityBytes: size };
}

async function stashAt(rt: NodeRuntime, stagingPath: string): Promise<Stash | undefined> {
  return (await findStash(stagingPath, { stagingMounted: await rt.mounter.isMountPoint(stagingPath) }))?.stash;
}

/**
 * Without staging_target_path (optional in the request): volume_path is the staging path itself,
 * a publish bind mount whose file system is also mounted at the staging path, or — for a raw
 * block volume — a bind mount of the device node, which leads to no staging mount: its record is
 * then the one block stage record of this volume id among the node's records. The device found
 * from it is checked by identity before anything is done to it.
 */
async function stashBehind(rt: NodeRuntime, volumePath: string, volumeId: string): Promise<Stash | undefined> {
  const direct = await stashAt(rt, volumePath);
  if (direct) return direct;
  const target = await rt.mounter.mountInfo(volumePath);
  if (!target) return undefined;
  const viaMount = await stashBehindMount(rt, target);
  if (viaMount) return viaMount;
  const blocks = (await listStashes(rt.kubeletDir, rt.stateDir)).filter((s) => s.volumeId === volumeId && s.accessType === 'block');
  return blocks.length === 1 ? blocks[0] : undefined;
}

async function stashBehindMount(rt: NodeRuntime, target: MountInfo): Promise<Stash | undefined> {
  for (const m of await rt.mounter.mounts()) {
    if (m.mountPoint === target.mountPoint || !sameFilesystem(m, target)) continue;
    // Only staging paths under the kubelet root count: a record elsewhere is not ours to trust.
    const staging = await resolveUnderKubelet('staging path', m.mountPoint, rt.kubeletDir).catch(() => undefined);
    if (!staging) continue;
    const s = (await findStash(staging, { stagingMounted: true }))?.stash;
    if (s) return s;
  }
  return undefined;
}
