import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { DRIVER_NAME } from '../../src/util/package-info.js';
import { GiB, KUBELET, type Rig } from './rig.js';

/**
 * The steps a CO takes, as kubelet lays out its directories, and the checks the scenarios make
 * inside the guest (data written and read back, nothing left behind).
 */
export type Cap = { kind: 'mount'; fsType: string } | { kind: 'block' };

export function capability(c: Cap, mode = 'SINGLE_NODE_WRITER'): Record<string, unknown> {
  return c.kind === 'block'
    ? { block: {}, access_mode: { mode } }
    : { mount: { fs_type: c.fsType, mount_flags: [] }, access_mode: { mode } };
}

export interface Staged {
  volumeId: string;
  cap: Cap;
  publishContext: Record<string, string>;
  stagingPath: string;
  /** Set once published to a pod. */
  targetPath?: string;
  /** The node-stage secret (RBD: the Ceph key). */
  secrets?: Record<string, string>;
  /** The access mode, when not SINGLE_NODE_WRITER. */
  mode?: string;
}

let nodeId: string | undefined;
export async function nodeIdOf(rig: Rig, refresh = false): Promise<string> {
  if (!nodeId || refresh) nodeId = (await rig.call<{ node_id: string }>(rig.node, 'NodeGetInfo', {})).node_id;
  return nodeId;
}

export async function createVolume(rig: Rig, prefix: string, sizeGiB = 1, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await rig.call<{ volume: { volume_id: string } }>(rig.controller.controller, 'CreateVolume', {
    name: `${prefix}-${randomBytes(4).toString('hex')}`,
    capacity_range: { required_bytes: String(sizeGiB * GiB) },
    volume_capabilities: [capability({ kind: 'mount', fsType: 'ext4' })],
    parameters: { type: rig.tier.cinder.get('CINDER_VOLUME_TYPE') },
    ...extra,
  });
  return res.volume.volume_id;
}

export async function controllerPublish(rig: Rig, volumeId: string, cap: Cap, mode?: string): Promise<Record<string, string>> {
  const res = await rig.call<{ publish_context: Record<string, string> }>(rig.controller.controller, 'ControllerPublishVolume', {
    volume_id: volumeId,
    node_id: await nodeIdOf(rig),
    volume_capability: capability(cap, mode),
    readonly: false,
  });
  return res.publish_context;
}

export function stagingPathOf(volumeId: string, cap: Cap): string {
  const h = createHash('sha256').update(volumeId).digest('hex');
  return cap.kind === 'block'
    ? `${KUBELET}/plugins/kubernetes.io/csi/volumeDevices/staging/pv-${volumeId.slice(0, 8)}`
    : `${KUBELET}/plugins/kubernetes.io/csi/${DRIVER_NAME}/${h}/globalmount`;
}

export interface StageOptions {
  timeoutMs?: number;
  secrets?: Record<string, string>;
  mode?: string;
}

export function stageRequest(volumeId: string, cap: Cap, publishContext: Record<string, string>, o: StageOptions = {}): Record<string, unknown> {
  return {
    volume_id: volumeId,
    publish_context: publishContext,
    staging_target_path: stagingPathOf(volumeId, cap),
    volume_capability: capability(cap, o.mode),
    ...(o.secrets ? { secrets: o.secrets } : {}),
  };
}

export async function stage(rig: Rig, volumeId: string, cap: Cap, publishContext: Record<string, string>, o: StageOptions = {}): Promise<Staged> {
  await rig.call(rig.node, 'NodeStageVolume', stageRequest(volumeId, cap, publishContext, o), o.timeoutMs);
  return {
    volumeId,
    cap,
    publishContext,
    stagingPath: stagingPathOf(volumeId, cap),
    ...(o.secrets ? { secrets: o.secrets } : {}),
    ...(o.mode ? { mode: o.mode } : {}),
  };
}

/** Controller publish + node stage: what happens before a pod starts. */
export async function attach(rig: Rig, volumeId: string, cap: Cap): Promise<Staged> {
  return stage(rig, volumeId, cap, await controllerPublish(rig, volumeId, cap));
}

export async function publish(rig: Rig, s: Staged): Promise<string> {
  const pod = randomBytes(4).toString('hex');
  const pv = `pv-${s.volumeId.slice(0, 8)}`;
  const target =
    s.cap.kind === 'block' ? `${KUBELET}/plugins/kubernetes.io/csi/volumeDevices/publish/${pv}/${pod}` : `${KUBELET}/pods/${pod}/volumes/kubernetes.io~csi/${pv}/mount`;
  await rig.guest.sh(`mkdir -p "$(dirname '${target}')"`);
  await rig.call(rig.node, 'NodePublishVolume', {
    volume_id: s.volumeId,
    publish_context: s.publishContext,
    staging_target_path: s.stagingPath,
    target_path: target,
    volume_capability: capability(s.cap, s.mode),
    readonly: false,
  });
  s.targetPath = target;
  return target;
}

export async function unpublish(rig: Rig, s: Staged): Promise<void> {
  if (!s.targetPath) return;
  await rig.call(rig.node, 'NodeUnpublishVolume', { volume_id: s.volumeId, target_path: s.targetPath });
  s.targetPath = undefined;
}

export async function unstage(rig: Rig, s: Staged): Promise<void> {
  await rig.call(rig.node, 'NodeUnstageVolume', { volume_id: s.volumeId, staging_target_path: s.stagingPath });
}

/** Unpublish, unstage, controller-unpublish, delete: what happens after the PVC is deleted. */
export async function destroy(rig: Rig, s: Staged): Promise<void> {
  await unpublish(rig, s);
  await unstage(rig, s);
  await rig.call(rig.controller.controller, 'ControllerUnpublishVolume', { volume_id: s.volumeId, node_id: await nodeIdOf(rig) });
  await rig.call(rig.controller.controller, 'DeleteVolume', { volume_id: s.volumeId });
}

/** Writes MiB of random data through the pod's view of the volume; returns its sha256. */
export async function writeData(rig: Rig, s: Staged, mib = 8): Promise<string> {
  const t = s.targetPath;
  if (!t) throw new Error('publish the volume first');
  const out =
    s.cap.kind === 'block'
      ? await rig.guest.sh(`dd if=/dev/urandom of=/tmp/blk.bin bs=1M count=${mib} status=none && dd if=/tmp/blk.bin of='${t}' bs=1M oflag=direct status=none && sha256sum < /tmp/blk.bin`)
      : await rig.guest.sh(`dd if=/dev/urandom of='${t}/data.bin' bs=1M count=${mib} status=none && sync && sha256sum < '${t}/data.bin'`);
  return out.split(' ')[0] ?? '';
}

/** Reads the data back without the page cache. */
export async function readData(rig: Rig, s: Staged, mib = 8): Promise<string> {
  const t = s.targetPath;
  if (!t) throw new Error('publish the volume first');
  const out =
    s.cap.kind === 'block'
      ? await rig.guest.sh(`dd if='${t}' bs=1M count=${mib} iflag=direct status=none | sha256sum`)
      : await rig.guest.sh(`echo 3 > /proc/sys/vm/drop_caches; sha256sum < '${t}/data.bin'`);
  return out.split(' ')[0] ?? '';
}

export interface Leftovers {
  sessions: string[];
  disks: string[];
  maps: string[];
  records: string[];
  mounts: string[];
  stashes: string[];
  /** krbd mappings, and nbd devices connected (rbd-nbd). */
  rbd: string[];
}

/** What the node plugin must not leave behind once every volume is unstaged. */
export async function leftovers(rig: Rig): Promise<Leftovers> {
  const lines = async (script: string): Promise<string[]> =>
    (await rig.guest.exec(['bash', '-c', script])).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  return {
    sessions: await lines('iscsiadm -m session 2>/dev/null'),
    disks: await lines('ls /sys/block | grep -E "^sd" || true'),
    maps: await lines('dmsetup ls --target multipath 2>/dev/null | grep -v "No devices" || true'),
    records: await lines('ls /etc/iscsi/nodes 2>/dev/null || true'),
    mounts: await lines(`grep ' ${KUBELET}/' /proc/mounts | grep -v '^/dev/vda' || true`),
    stashes: await lines(`find ${KUBELET}/plugins -name cinder-metal-csi.json 2>/dev/null || true`),
    rbd: await lines('ls /sys/bus/rbd/devices 2>/dev/null; ls -d /sys/block/nbd*/pid 2>/dev/null || true'),
  };
}

export const NOTHING: Leftovers = { sessions: [], disks: [], maps: [], records: [], mounts: [], stashes: [], rbd: [] };

/** Lines of a guest shell script's output (it may fail: an empty answer then). */
export async function guestLines(rig: Rig, script: string): Promise<string[]> {
  return (await rig.guest.exec(['bash', '-c', script])).stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The guest's packets to a portal's port vanish (as when a switch or a target port dies). */
export async function losePortal(rig: Rig, port: number): Promise<void> {
  await rig.guest.sh(
    `nft list table ip cmcloss >/dev/null 2>&1 || nft -f - <<'NFT'
table ip cmcloss {
  chain out { type filter hook output priority 0; }
  chain in { type filter hook input priority 0; }
}
NFT
nft add rule ip cmcloss out tcp dport ${port} drop && nft add rule ip cmcloss in tcp sport ${port} drop`,
  );
}

export async function restorePortals(rig: Rig): Promise<void> {
  await rig.guest.sh('nft delete table ip cmcloss 2>/dev/null || true');
}

/** Path states of every multipath map ("A" active, "F" failed), from the kernel's dm status. */
export async function multipathPathStates(rig: Rig): Promise<string[]> {
  const lines = await guestLines(rig, 'dmsetup status --target multipath 2>/dev/null || true');
  return lines.flatMap((l) => [...l.matchAll(/ \d+:\d+ ([AF]) /g)].map((m) => m[1] ?? ''));
}

/** The kernel device behind a volume: the staging mount's source, or (block) the published file's. */
export async function stagedDevice(rig: Rig, s: Staged): Promise<string> {
  const at = s.cap.kind === 'block' ? s.targetPath : s.stagingPath;
  if (!at) throw new Error('publish the block volume first');
  const source = (await guestLines(rig, `findmnt -n -o SOURCE --mountpoint '${at}'`))[0] ?? '';
  // A bind-mounted device node shows as "udev[/dm-0]".
  const inner = /\[(.+)\]$/.exec(source)?.[1];
  return inner ? `/dev${inner}` : source;
}

/** Waits until a guest condition holds (a shell test that exits 0). */
export async function guestUntil(rig: Rig, script: string, what: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if ((await rig.guest.exec(['bash', '-c', script])).code === 0) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Online expand of a published 1 GiB ext4 volume to 2 GiB, as the resizer and kubelet do it:
 * ControllerExpandVolume, then NodeExpandVolume on the publish path. Checks the size the kernel
 * sees before and after, and that the file system grew.
 */
export async function expandInUse(rig: Rig, s: Staged): Promise<void> {
  const target = s.targetPath;
  if (!target) throw new Error('publish the volume first');
  const device = await stagedDevice(rig, s);
  const sizeOf = async (): Promise<number> => Number((await rig.guest.sh(`blockdev --getsize64 ${device}`)).trim());
  expect(await sizeOf()).toBe(GiB);
  const capacity_range = { required_bytes: String(2 * GiB) };
  const ext4 = capability({ kind: 'mount', fsType: 'ext4' });
  const grown = await rig.call<{ node_expansion_required: boolean }>(rig.controller.controller, 'ControllerExpandVolume', {
    volume_id: s.volumeId,
    capacity_range,
    volume_capability: ext4,
  });
  expect(grown.node_expansion_required).toBe(true);
  await rig.call(rig.node, 'NodeExpandVolume', { volume_id: s.volumeId, volume_path: target, staging_target_path: s.stagingPath, capacity_range, volume_capability: ext4 });
  expect(await sizeOf()).toBe(2 * GiB);
  const fsBytes = Number((await rig.guest.sh(`df -B1 --output=size '${target}' | tail -1`)).trim());
  expect(fsBytes).toBeGreaterThan(1.8 * GiB);
}
