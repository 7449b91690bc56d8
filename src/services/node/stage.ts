import { mkdir } from 'node:fs/promises';
import type { ConnectionData } from '../../brick/connection-data.js';
import type { AttachedDevice } from '../../brick/connector.js';
import { connectorFor } from '../../brick/connectors.js';
import { blockdevSizeBytes } from '../../host/block-device.js';
import { defaultMountOptions, isFsType } from '../../host/filesystem.js';
import { timeLeft, type RpcContext } from '../../util/context.js';
import { alreadyExists, failedPrecondition } from '../../util/errors.js';
import { CTX_SOURCE } from '../controller/constants.js';
import { decodePublishContext } from '../publish-context.js';
import { mountOfDeviceAt } from './devices.js';
import { verifyIdentity } from './identity-check.js';
import { resolveUnderKubelet } from './paths.js';
import { sameCapability, type MountCapability, type StageRequest } from './requests.js';
import type { NodeRuntime } from './runtime.js';
import { assertStashSlotFree, capabilityOfStash, findStash, removeStash, writeStash, type Stash } from './stash.js';
import { indexStage, unindexStage } from './stage-index.js';
import { shouldUndo, UndoStack } from './undo.js';

/** Keys of the node-stage secret that may hold the Ceph user's key (ceph-csi's name first). */
const RBD_SECRET_KEYS = ['userKey', 'key', 'keyring'];

/**
 * NodeStageVolume (architecture §4): connect → verify identity → record → safe-format → mount.
 * Every step looks at the host before it acts, so a retry after a crash at any point carries on
 * from where the first attempt stopped. The stage record (stash) is written as soon as the
 * device is known and verified — before formatting and mounting — so that NodeUnstage can
 * disconnect even a stage that crashed halfway (kubelet then calls NodeUnstage on an
 * "uncertain" volume, without a publish_context).
 */
export async function nodeStage(
  rt: NodeRuntime,
  req: StageRequest,
  ctx: RpcContext,
): Promise<void> {
  const { volumeId, capability: cap } = req;
  const stagingPath = await resolveUnderKubelet('staging_target_path', req.stagingTargetPath, rt.kubeletDir);
  const { connection, attachmentId } = decodePublishContext(req.publishContext, volumeId, rt.key);
  const source = req.volumeContext[CTX_SOURCE];
  await rt.tools.require({ transport: connection.type, ...(cap.accessType === 'mount' ? { fsType: cap.fsType } : {}) });
  const log = ctx.log.child({ volumeId, stagingPath });

  await mkdir(stagingPath, { recursive: true, mode: 0o750 });
  if (cap.accessType === 'mount') await assertStashSlotFree(stagingPath);
  const mounted = await rt.mounter.mountInfo(stagingPath);
  const prior = await findStash(stagingPath, { stagingMounted: mounted !== undefined });
  if (prior) {
    if (prior.stash.volumeId !== volumeId) {
      throw failedPrecondition(`staging path ${stagingPath} already holds volume ${prior.stash.volumeId}`);
    }
    if (!sameCapability(capabilityOfStash(prior.stash), cap)) {
      throw alreadyExists(`volume ${volumeId} is already staged at ${stagingPath} with a different volume capability`);
    }
  }

  const undo = new UndoStack();
  try {
    const connector = connectorFor(connection, rt.connectors);
    let device = await connector.findDevice(connection, { signal: ctx.signal });
    if (device) {
      log.debug({ device: device.path }, 'volume already connected');
    } else {
      device = await connector.connect(connection, {
        signal: ctx.signal,
        timeoutMs: Math.max(1_000, Math.min(rt.deviceTimeoutMs, timeLeft(ctx, 1_000))),
        ...rbdKey(connection, req.secrets),
        exclusiveWriter: req.singleNodeWriter,
      });
      const connected = device;
      // Only what this call connected is disconnected again: a device that was there before
      // may be in use by an earlier stage of this volume.
      undo.push(`disconnect ${connected.path}`, () => connector.disconnect(connection, connected, { force: false }));
      log.info({ device: device.path, wwn: device.wwn }, 'volume connected');
    }

    verifyIdentity(volumeId, connection, device, prior?.stash.wwn);

    const stash: Stash = {
      version: 1,
      volumeId,
      stagingPath,
      accessType: cap.accessType,
      readOnly: cap.readOnly,
      connection,
      device: device.path,
      ...(device.wwn ? { wwn: device.wwn } : {}),
      ...(device.mapper ? { mapper: device.mapper } : {}),
      ...(attachmentId ? { attachmentId } : {}),
      ...(cap.accessType === 'mount' ? { fsType: cap.fsType, mountFlags: cap.mountFlags } : {}),
    };
    const stashFile = await writeStash(stash);
    if (!prior) undo.push(`remove ${stashFile}`, () => removeStash(stashFile));
    await indexStage(rt.stateDir, volumeId, stashFile);
    if (!prior) undo.push(`unindex ${volumeId}`, () => unindexStage(rt.stateDir, volumeId, stashFile));

    if (cap.accessType === 'mount') {
      const readOnly = cap.readOnly || connection.accessMode === 'ro' || cap.mountFlags.includes('ro');
      await mountStaged(rt, { volumeId, stagingPath, cap, device, readOnly, source, alreadyMounted: mounted !== undefined }, undo, ctx);
    }
    log.info({ device: device.path, accessType: cap.accessType }, 'volume staged');
  } catch (err) {
    if (shouldUndo(ctx.signal)) await undo.run(log);
    throw err;
  }
}

/** The Ceph user's key from the node-stage secret, when the connection is RBD and one is given. */
function rbdKey(conn: ConnectionData, secrets: Record<string, string> | undefined): { secretKey?: string } {
  if (conn.type !== 'rbd' || !secrets) return {};
  for (const k of RBD_SECRET_KEYS) {
    const v = secrets[k];
    if (v) return { secretKey: v };
  }
  return {};
}

interface MountStep {
  volumeId: string;
  stagingPath: string;
  cap: MountCapability;
  device: AttachedDevice;
  readOnly: boolean;
  /** volume_context source: "snapshot", "backup" or "volume" when the volume was made from one. */
  source: string | undefined;
  alreadyMounted: boolean;
}

/** Safe-format and mount, each only when not already done. */
async function mountStaged(rt: NodeRuntime, s: MountStep, undo: UndoStack, ctx: RpcContext): Promise<void> {
  const { stagingPath, cap, device } = s;
  if (s.alreadyMounted) {
    const ours = await mountOfDeviceAt(rt.mounter, device.path, stagingPath);
    if (!ours) throw failedPrecondition(`staging path ${stagingPath} has something else mounted on it than ${device.path}`);
    if (ours.fsType !== cap.fsType) {
      throw alreadyExists(`volume ${s.volumeId} is mounted at ${stagingPath} as ${ours.fsType}, not ${cap.fsType}`);
    }
    return;
  }

  const probe = await rt.filesystem.probe(device.path, { signal: ctx.signal });
  let fresh = false;
  if (probe.blank) {
    // A restored snapshot or backup or a clone is never formatted: if it looks blank, the copy
    // is not there (yet), and formatting would destroy what should arrive.
    if (s.source === 'snapshot' || s.source === 'backup' || s.source === 'volume') {
      throw failedPrecondition(`volume ${s.volumeId} was made from a ${s.source} but ${device.path} holds no file system; refusing to format it`);
    }
    if (s.readOnly) throw failedPrecondition(`volume ${s.volumeId} is blank and attached read-only: there is no file system to mount`);
    await rt.filesystem.format(device.path, cap.fsType, { signal: ctx.signal });
    fresh = true;
    ctx.log.info({ device: device.path, fsType: cap.fsType }, 'file system created');
  } else if (probe.type !== cap.fsType) {
    const found = probe.ptType ? `a ${probe.ptType} partition table` : probe.type ? `a ${probe.type} signature` : 'an unknown signature';
    const hint = probe.type && isFsType(probe.type) ? ` (ask for fsType ${probe.type})` : '';
    throw failedPrecondition(`${device.path} of volume ${s.volumeId} holds ${found}, not ${cap.fsType}${hint}; it is neither formatted nor mounted`);
  }
  // A cheap preen check of an existing ext file system before it is mounted read-write.
  if (!fresh && !s.readOnly) await rt.filesystem.check(device.path, cap.fsType, { signal: ctx.signal, log: ctx.log });
  // Grown while not staged (a restore or clone into a larger PVC, an expansion while unstaged):
  // Kubernetes calls no NodeExpand for these, so the stage grows the file system. ext offline,
  // before the mount; xfs and btrfs can only grow mounted, below.
  const grow = !fresh && !s.readOnly;
  if (grow && (cap.fsType === 'ext4' || cap.fsType === 'ext3')) await growExtIfSmaller(rt, device.path, ctx);

  // nouuid for XFS: a clone or restored snapshot has the UUID of its source, which XFS refuses
  // to mount twice on one host. Harmless for a volume with a UUID of its own.
  const options = [...defaultMountOptions(cap.fsType), ...cap.mountFlags];
  await rt.mounter.mount(device.path, stagingPath, { fsType: cap.fsType, options, readOnly: s.readOnly, signal: ctx.signal });
  undo.push(`unmount ${stagingPath}`, () => rt.mounter.unmount(stagingPath));
  // xfs_growfs and btrfs resize are no-ops on a file system that already fills its device.
  if (grow && (cap.fsType === 'xfs' || cap.fsType === 'btrfs')) {
    await rt.filesystem.resize(device.path, stagingPath, cap.fsType, { signal: ctx.signal });
  }
}

async function growExtIfSmaller(rt: NodeRuntime, device: string, ctx: RpcContext): Promise<void> {
  const fsBytes = await rt.filesystem.extSizeBytes(device, { signal: ctx.signal });
  const deviceBytes = await blockdevSizeBytes(rt.exec, device, ctx.signal);
  // Under 64 KiB more is slack: a device that is not a whole number of blocks long is full.
  if (fsBytes === undefined || deviceBytes - fsBytes < 64 * 1024) return;
  ctx.log.info({ device, fsBytes, deviceBytes }, 'the device is larger than its file system; growing it before the mount');
  await rt.filesystem.growExtOffline(device, { signal: ctx.signal });
}
