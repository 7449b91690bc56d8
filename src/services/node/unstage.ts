import { connectorFor } from '../../brick/connectors.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, failedPrecondition } from '../../util/errors.js';
import { unindexStage } from './stage-index.js';
import { resolveUnderKubelet } from './paths.js';
import type { UnstageRequest } from './requests.js';
import type { NodeRuntime } from './runtime.js';
import { findStash, removeStash } from './stash.js';

/**
 * NodeUnstageVolume (architecture §4): unmount → flush → disconnect → remove the stash. Everything it
 * needs comes from the stash, so it works after a plugin restart. Each step is skipped when
 * already done; nothing there at all is success. The staging directory belongs to the CO and
 * is left in place.
 */
export async function nodeUnstage(
  rt: NodeRuntime,
  req: UnstageRequest,
  ctx: RpcContext,
): Promise<void> {
  const { volumeId } = req;
  const stagingPath = await resolveUnderKubelet('staging_target_path', req.stagingTargetPath, rt.kubeletDir);
  const log = ctx.log.child({ volumeId, stagingPath });

  const mount = await rt.mounter.mountInfo(stagingPath);
  const found = await findStash(stagingPath, { stagingMounted: mount !== undefined });
  if (found && found.stash.volumeId !== volumeId) {
    throw failedPrecondition(`staging path ${stagingPath} holds volume ${found.stash.volumeId}, not ${volumeId}`);
  }

  if (mount) {
    // The CO unpublishes before it unstages; another mount of the device still in place (a
    // publish bind mount) means a workload still uses the volume, and disconnecting under it
    // would lose its writes.
    const device = found?.stash.device ?? (mount.source.startsWith('/dev/') ? mount.source : undefined);
    const others = device ? (await rt.mounter.mountsOfDevice(device)).filter((m) => m.mountPoint !== mount.mountPoint) : [];
    if (others.length) {
      throw failedPrecondition(
        `volume ${volumeId} is still mounted at ${others.map((m) => m.mountPoint).join(', ')}; unpublish it first`,
      );
    }
    await rt.mounter.unmount(stagingPath, { signal: ctx.signal });
    log.info('staging path unmounted');
  }

  if (!found) {
    // No record: nothing this plugin staged here (or a stage that never reached its record,
    // which then also never connected). Idempotent success.
    log.info({ unmounted: mount !== undefined }, 'no stage record; nothing to disconnect');
    return;
  }

  const { stash } = found;
  // The connector finds, flushes and removes the volume's devices by their identity (its
  // session and LUN, its image, its backing file), with the WWID recorded at stage as a second
  // check. stash.device is a kernel name from before: after a reboot or a lost session it may be
  // another volume's disk, so nothing is done to it by that name.
  // A check an earlier stage started may still run on the device (it outlives RPC deadlines):
  // the device is never pulled away under e2fsck.
  if (rt.filesystem.checking(stash.device)) {
    throw aborted(`e2fsck of ${stash.device} (volume ${stash.volumeId}) is still running; unstage waits until it ends`);
  }
  const connector = connectorFor(stash.connection, rt.connectors);
  await connector.disconnect(stash.connection, { path: stash.device, ...(stash.wwn ? { wwn: stash.wwn } : {}), ...(stash.mapper ? { mapper: stash.mapper } : {}) }, { signal: ctx.signal });
  await removeStash(found.path);
  await unindexStage(rt.stateDir, stash.volumeId, found.path);
  log.info({ device: stash.device }, 'volume unstaged');
  return;
}
