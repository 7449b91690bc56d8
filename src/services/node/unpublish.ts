import { lstat, rmdir, unlink } from 'node:fs/promises';
import type { RpcContext } from '../../util/context.js';
import { errorMessage, failedPrecondition, internal } from '../../util/errors.js';
import { pathKind } from './devices.js';
import { readOnlyLayerAt, removeReadOnlyLayer } from './ro-layer.js';
import { resolveUnderKubelet } from './paths.js';
import type { UnpublishRequest } from './requests.js';
import type { NodeRuntime } from './runtime.js';

/** Mounts stacked on one target (a publish retried by hand) are peeled off up to this many. */
const MAX_STACKED = 4;

/**
 * NodeUnpublishVolume: unmount the target and remove what publish created there — with rmdir
 * or unlink of an empty file, never a recursive removal: if anything is left after the
 * unmount, it is the workload's data written under the mount point and stays.
 */
export async function nodeUnpublish(
  rt: NodeRuntime,
  req: UnpublishRequest,
  ctx: RpcContext,
): Promise<void> {
  const { volumeId } = req;
  const targetPath = await resolveUnderKubelet('target_path', req.targetPath, rt.kubeletDir);
  const log = ctx.log.child({ volumeId, targetPath });

  // A read-only block publish bound its own loop layer: found before the unmount hides it.
  const layer = await readOnlyLayerAt(targetPath);
  let unmounted = 0;
  while (unmounted < MAX_STACKED && (await rt.mounter.isMountPoint(targetPath))) {
    await rt.mounter.unmount(targetPath, { signal: ctx.signal });
    unmounted++;
  }
  if (await rt.mounter.isMountPoint(targetPath)) throw internal(`${targetPath} is still a mount point after ${MAX_STACKED} unmounts`);
  if (layer && unmounted > 0) {
    await removeReadOnlyLayer(rt.exec, layer.layer, ctx.signal);
    log.info({ layer: layer.layer, over: layer.over }, 'read-only layer removed');
  }

  const kind = await pathKind(targetPath);
  try {
    if (kind === 'directory') {
      await rmdir(targetPath);
    } else if (kind === 'file') {
      if ((await lstat(targetPath)).size !== 0) {
        throw failedPrecondition(`${targetPath} is a non-empty file, not a device target this plugin made; left in place`);
      }
      await unlink(targetPath);
    } else if (kind === 'other') {
      throw failedPrecondition(`${targetPath} is neither a directory nor a file; left in place`);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw failedPrecondition(`${targetPath} is not empty after unmounting (data written under the mount point?); left in place`);
    }
    if (code !== undefined) throw internal(`cannot remove ${targetPath}: ${errorMessage(err)}`, err);
    throw err;
  }
  log.info({ unmounted, removed: kind !== undefined }, 'volume unpublished');
  return;
}
