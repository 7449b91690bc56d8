import { mkdir, open as openFile, realpath, rmdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { connectorFor } from '../../brick/connectors.js';
import type { MountInfo } from '../../host/mountinfo.js';
import type { RpcContext } from '../../util/context.js';
import { alreadyExists, errorMessage, failedPrecondition, invalidArgument } from '../../util/errors.js';
import { isSameBlockDevice, pathKind, sameFilesystem } from './devices.js';
import { verifyIdentity } from './identity-check.js';
import { resolveUnderKubelet } from './paths.js';
import type { PublishRequest } from './requests.js';
import type { NodeRuntime } from './runtime.js';
import { createReadOnlyLayer, isReadOnlyDevice, readOnlyLayerAt, removeReadOnlyLayer } from './ro-layer.js';
import { findStash, type Stash } from './stash.js';

/** Per-mount (VFS) flags a bind mount can carry; file-system options belong to the stage mount. */
const BIND_FLAGS: ReadonlySet<string> = new Set(['nodev', 'nosuid', 'noexec', 'noatime', 'nodiratime', 'relatime', 'strictatime']);

/**
 * NodePublishVolume: bind the staged volume onto the workload's target path — the staging
 * mount onto a directory (mount access), or the device node onto a file (block access). A
 * read-only publish is a bind followed by a read-only remount. The target is created here and
 * removed again when the bind fails, as the spec puts its creation on the plugin.
 */
export async function nodePublish(
  rt: NodeRuntime,
  req: PublishRequest,
  ctx: RpcContext,
): Promise<void> {
  const { volumeId, capability: cap } = req;
  const targetPath = await resolveUnderKubelet('target_path', req.targetPath, rt.kubeletDir);
  // The spec's code for a missing staging path when STAGE_UNSTAGE_VOLUME is advertised.
  if (!req.stagingTargetPath) throw failedPrecondition('staging_target_path is required: this plugin stages volumes before publishing them');
  const stagingPath = await resolveUnderKubelet('staging_target_path', req.stagingTargetPath, rt.kubeletDir);
  if (targetPath === stagingPath) throw invalidArgument('target_path must differ from staging_target_path');

  const stagingMount = await rt.mounter.mountInfo(stagingPath);
  const found = await findStash(stagingPath, { stagingMounted: stagingMount !== undefined });
  if (!found || found.stash.volumeId !== volumeId) {
    throw failedPrecondition(`volume ${volumeId} is not staged at ${stagingPath}; NodeStageVolume must succeed first`);
  }
  const stash = found.stash;
  if (stash.accessType !== cap.accessType) {
    throw failedPrecondition(`volume ${volumeId} is staged for ${stash.accessType} access, not ${cap.accessType}`);
  }
  const readOnly = req.readonly || cap.readOnly;
  const log = ctx.log.child({ volumeId, targetPath });

  if (cap.accessType === 'mount') {
    if (!stagingMount) throw failedPrecondition(`volume ${volumeId} is staged but nothing is mounted at ${stagingPath}; stage it again`);
    const flags = cap.mountFlags.filter((f) => BIND_FLAGS.has(f));
    await publishMount(rt, { targetPath, stagingPath, stagingMount, readOnly, flags }, ctx);
  } else {
    await publishBlock(rt, stash, { targetPath, readOnly }, ctx);
  }
  log.info({ readOnly, accessType: cap.accessType }, 'volume published');
}

async function publishMount(
  rt: NodeRuntime,
  p: { targetPath: string; stagingPath: string; stagingMount: MountInfo; readOnly: boolean; flags: string[] },
  ctx: RpcContext,
): Promise<void> {
  const { targetPath } = p;
  const existing = await rt.mounter.mountInfo(targetPath);
  if (existing) {
    if (!sameFilesystem(existing, p.stagingMount)) throw alreadyExists(`${targetPath} already has another file system mounted`);
    assertSameReadOnly(existing, p.readOnly || p.stagingMount.mountOptions.includes('ro'), targetPath);
    return;
  }
  const kind = await pathKind(targetPath);
  let created = false;
  if (kind === undefined) {
    await mkdir(targetPath, { recursive: true, mode: 0o750 });
    created = true;
  } else if (kind !== 'directory') {
    throw failedPrecondition(`${targetPath} exists and is not a directory`);
  }
  await bindOrUndo(rt, p.stagingPath, targetPath, { readOnly: p.readOnly, options: p.flags, created, isDir: true }, ctx);
}

async function publishBlock(rt: NodeRuntime, stash: Stash, p: { targetPath: string; readOnly: boolean }, ctx: RpcContext): Promise<void> {
  const { targetPath } = p;
  // Ask the connector where the device is now, rather than trusting the recorded name alone
  // (a loop device or SCSI disk name can be reused after a disconnect).
  const live = await connectorFor(stash.connection, rt.connectors).findDevice(stash.connection, { signal: ctx.signal });
  if (!live) throw failedPrecondition(`the device of volume ${stash.volumeId} is no longer connected; stage it again`);
  verifyIdentity(stash.volumeId, stash.connection, live, stash.wwn);
  const device = live.path;

  const kind = await pathKind(targetPath);
  const mounted = kind !== undefined ? await rt.mounter.mountInfo(targetPath) : undefined;
  if (mounted) {
    const layer = await readOnlyLayerAt(targetPath);
    const bound = layer ? layer.over === (await realpath(device)) : await isSameBlockDevice(targetPath, device);
    if (!bound) throw alreadyExists(`${targetPath} already has another device or file system mounted`);
    const deviceReadOnly = await isReadOnlyDevice(device);
    const isReadOnly = layer !== undefined || deviceReadOnly;
    if (isReadOnly !== (p.readOnly || deviceReadOnly)) {
      throw alreadyExists(`${targetPath} is already published ${isReadOnly ? 'read-only' : 'read-write'}`);
    }
    return;
  }
  let created = false;
  if (kind === 'directory') {
    // Some COs pre-create the target as a directory; a device can only be bound onto a file.
    try {
      await rmdir(targetPath);
    } catch (err) {
      throw failedPrecondition(`${targetPath} is a directory that cannot be replaced by a device file: ${errorMessage(err)}`);
    }
  } else if (kind !== undefined && kind !== 'file') {
    throw failedPrecondition(`${targetPath} exists and is neither a file nor a directory`);
  }
  if (kind !== 'file') {
    await mkdir(dirname(targetPath), { recursive: true, mode: 0o750 });
    const handle = await openFile(targetPath, 'wx', 0o640);
    await handle.close();
    created = true;
  }
  // A read-only bind does not stop writes through a device node: bind a read-only layer instead.
  const layer = p.readOnly && !(await isReadOnlyDevice(device)) ? await createReadOnlyLayer(rt.exec, device, ctx.signal) : undefined;
  try {
    await bindOrUndo(rt, layer ?? device, targetPath, { readOnly: p.readOnly, options: [], created, isDir: false }, ctx);
  } catch (err) {
    if (layer) await removeReadOnlyLayer(rt.exec, layer).catch(() => undefined);
    throw err;
  }
}

/** Bind (and remount read-only); on failure leave nothing: no half-made mount, no created target. */
async function bindOrUndo(
  rt: NodeRuntime,
  source: string,
  targetPath: string,
  o: { readOnly: boolean; options: string[]; created: boolean; isDir: boolean },
  ctx: RpcContext,
): Promise<void> {
  try {
    await rt.mounter.bindMount(source, targetPath, { readOnly: o.readOnly, options: o.options, signal: ctx.signal });
  } catch (err) {
    // The bind may have worked and only the read-only remount failed: a writable bind must not stay.
    try {
      await rt.mounter.unmount(targetPath);
      if (o.created) await (o.isDir ? rmdir(targetPath) : unlink(targetPath));
    } catch (cleanupErr) {
      ctx.log.error({ targetPath, err: errorMessage(cleanupErr) }, 'could not undo a failed publish');
    }
    throw err;
  }
}

function assertSameReadOnly(m: MountInfo, wantReadOnly: boolean, targetPath: string): void {
  const isReadOnly = m.mountOptions.includes('ro');
  if (isReadOnly !== wantReadOnly) {
    throw alreadyExists(`${targetPath} is already published ${isReadOnly ? 'read-only' : 'read-write'}, not ${wantReadOnly ? 'read-only' : 'read-write'}`);
  }
}
