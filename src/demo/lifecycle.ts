import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { rpc } from './csi-client.js';

/**
 * The kubelet/sidecar call sequence of a volume's whole life, as Kubernetes would drive it:
 * create → publish to node A → stage (mkfs) → publish → write → unpublish → unstage →
 * publish to node B → stage → data intact → online expand → snapshot → restore → data matches →
 * clone → delete everything. The demo prints it; the e2e test asserts on it.
 */
export interface NodeEndpoint {
  name: string;
  client: Client;
  nodeId: string;
}

export interface LifecycleOptions {
  controller: Client;
  nodeA: NodeEndpoint;
  nodeB: NodeEndpoint;
  kubeletDir: string;
  /** Whether the node half (stage/publish, data) runs; false = controller half only. */
  dataPath: boolean;
  fsType?: 'ext4' | 'xfs' | 'btrfs';
  volumeType?: string;
  reporter: StepReporter;
  /** Deadline per RPC; long operations answer ABORTED past it and are retried. */
  rpcTimeoutMs?: number;
}

export interface StepReporter {
  start(step: string): void;
  end(step: string, ms: number, detail?: string): void;
  progress(step: string, note: string): void;
}

export interface LifecycleResult {
  steps: Array<{ step: string; ms: number; detail?: string }>;
  dataMatched: { nodeB: boolean; restore: boolean; clone: boolean } | undefined;
  expandedBytes?: number;
  volumeIds: string[];
  snapshotIds: string[];
}

const GiB = 1024 ** 3;
const ABORTED = 10;

export async function runLifecycle(o: LifecycleOptions): Promise<LifecycleResult> {
  const steps: LifecycleResult['steps'] = [];
  const volumeIds: string[] = [];
  const snapshotIds: string[] = [];
  const fsType = o.fsType ?? 'ext4';
  const capability = { mount: { fs_type: fsType, mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } };
  const timeout = o.rpcTimeoutMs ?? 30_000;
  const params: Record<string, string> = o.volumeType ? { type: o.volumeType } : {};

  const step = async <T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> => {
    o.reporter.start(name);
    const t0 = performance.now();
    const r = await fn();
    const ms = performance.now() - t0;
    const d = detail?.(r);
    steps.push({ step: name, ms, ...(d ? { detail: d } : {}) });
    o.reporter.end(name, ms, d);
    return r;
  };

  /** Long operations answer ABORTED while Cinder works; the sidecars retry, and so do we. */
  const call = async <T = Record<string, unknown>>(client: Client, method: string, req: unknown, name: string): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await rpc<T>(client, method, req, timeout);
      } catch (err) {
        if ((err as { code?: number }).code !== ABORTED || attempt >= 60) throw err;
        o.reporter.progress(name, `still working (${(err as { details?: string }).details ?? 'aborted'}), retrying`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  };

  const createVolume = async (name: string, source?: Record<string, unknown>, sizeGiB = 1): Promise<string> => {
    const res = await call<{ volume: { volume_id: string } }>(
      o.controller,
      'CreateVolume',
      {
        name,
        capacity_range: { required_bytes: String(sizeGiB * GiB) },
        volume_capabilities: [capability],
        parameters: params,
        ...(source ? { volume_content_source: source } : {}),
      },
      name,
    );
    volumeIds.push(res.volume.volume_id);
    return res.volume.volume_id;
  };

  const paths = (volumeId: string, node: NodeEndpoint) => {
    const staging = join(o.kubeletDir, 'plugins', 'kubernetes.io', 'csi', 'cinder.metal.csi.kungze.io', `${node.name}-${volumeId}`, 'globalmount');
    const target = join(o.kubeletDir, 'pods', `pod-${node.name}`, 'volumes', 'kubernetes.io~csi', volumeId, 'mount');
    return { staging, target };
  };

  const attach = async (volumeId: string, node: NodeEndpoint, label: string): Promise<string> => {
    const pub = await step(`ControllerPublishVolume ${label} → ${node.name}`, () =>
      call<{ publish_context: Record<string, string> }>(
        o.controller,
        'ControllerPublishVolume',
        { volume_id: volumeId, node_id: node.nodeId, volume_capability: capability, readonly: false },
        'publish',
      ),
    );
    if (!o.dataPath) return '';
    const { staging, target } = paths(volumeId, node);
    await mkdir(staging, { recursive: true });
    await mkdir(join(target, '..'), { recursive: true });
    const base = { volume_id: volumeId, publish_context: pub.publish_context, volume_capability: capability };
    await step(`NodeStageVolume ${label} on ${node.name}`, () => call(node.client, 'NodeStageVolume', { ...base, staging_target_path: staging }, 'stage'));
    await step(`NodePublishVolume ${label} on ${node.name}`, () =>
      call(node.client, 'NodePublishVolume', { ...base, staging_target_path: staging, target_path: target, readonly: false }, 'publish'),
    );
    return target;
  };

  const detach = async (volumeId: string, node: NodeEndpoint, label: string): Promise<void> => {
    if (o.dataPath) {
      const { staging, target } = paths(volumeId, node);
      await step(`NodeUnpublishVolume ${label} on ${node.name}`, () => call(node.client, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: target }, 'unpublish'));
      await step(`NodeUnstageVolume ${label} on ${node.name}`, () => call(node.client, 'NodeUnstageVolume', { volume_id: volumeId, staging_target_path: staging }, 'unstage'));
    }
    await step(`ControllerUnpublishVolume ${label} ← ${node.name}`, () =>
      call(o.controller, 'ControllerUnpublishVolume', { volume_id: volumeId, node_id: node.nodeId }, 'unpublish'),
    );
  };

  const payload = randomBytes(256 * 1024);
  const digest = createHash('sha256').update(payload).digest('hex');
  const readDigest = async (dir: string): Promise<string> => createHash('sha256').update(await readFile(join(dir, 'data.bin'))).digest('hex');

  const vol = await step('CreateVolume pvc-demo (1 GiB)', () => createVolume(`pvc-demo-${randomBytes(3).toString('hex')}`), (id) => id);
  const targetA = await attach(vol, o.nodeA, 'pvc-demo');
  if (o.dataPath) {
    await step('write 256 KiB on node A', async () => {
      await writeFile(join(targetA, 'data.bin'), payload);
    }, () => `sha256 ${digest.slice(0, 16)}…`);
  }
  await detach(vol, o.nodeA, 'pvc-demo');
  const targetB = await attach(vol, o.nodeB, 'pvc-demo');
  let matchB = false;
  if (o.dataPath) {
    matchB = await step('read back on node B', async () => (await readDigest(targetB)) === digest, (m) => (m ? 'data matches' : 'DATA DIFFERS'));
  }
  const expanded = await step('ControllerExpandVolume → 2 GiB (in use)', () =>
    call<{ capacity_bytes: string; node_expansion_required: boolean }>(o.controller, 'ControllerExpandVolume', { volume_id: vol, capacity_range: { required_bytes: String(2 * GiB) }, volume_capability: capability }, 'expand'),
    (r) => `${Number(r.capacity_bytes) / GiB} GiB`,
  );
  let expandedBytes: number | undefined;
  if (o.dataPath && expanded.node_expansion_required) {
    const { staging, target } = paths(vol, o.nodeB);
    await step('NodeExpandVolume on node B', () =>
      call(o.nodeB.client, 'NodeExpandVolume', { volume_id: vol, volume_path: target, staging_target_path: staging, capacity_range: { required_bytes: String(2 * GiB) }, volume_capability: capability }, 'expand'),
    );
    const s = await statfs(targetB);
    expandedBytes = s.blocks * s.bsize;
  }
  const snap = await step('CreateSnapshot', async () => {
    const r = await call<{ snapshot: { snapshot_id: string; ready_to_use: boolean } }>(o.controller, 'CreateSnapshot', { source_volume_id: vol, name: `snap-demo-${randomBytes(3).toString('hex')}` }, 'snapshot');
    snapshotIds.push(r.snapshot.snapshot_id);
    return r.snapshot.snapshot_id;
  }, (id) => id);
  const restored = await step('CreateVolume from the snapshot (restore)', () => createVolume(`pvc-restore-${randomBytes(3).toString('hex')}`, { snapshot: { snapshot_id: snap } }, 2), (id) => id);
  const clone = await step('CreateVolume from pvc-demo (clone)', () => createVolume(`pvc-clone-${randomBytes(3).toString('hex')}`, { volume: { volume_id: vol } }, 2), (id) => id);
  let matchRestore = false;
  let matchClone = false;
  if (o.dataPath) {
    const tr = await attach(restored, o.nodeA, 'restore');
    matchRestore = await step('read the restored volume on node A', async () => (await readDigest(tr)) === digest, (m) => (m ? 'data matches' : 'DATA DIFFERS'));
    await detach(restored, o.nodeA, 'restore');
    const tc = await attach(clone, o.nodeA, 'clone');
    matchClone = await step('read the clone on node A', async () => (await readDigest(tc)) === digest, (m) => (m ? 'data matches' : 'DATA DIFFERS'));
    await detach(clone, o.nodeA, 'clone');
  }
  await detach(vol, o.nodeB, 'pvc-demo');
  await step('DeleteSnapshot', () => call(o.controller, 'DeleteSnapshot', { snapshot_id: snap }, 'delete'));
  for (const id of [clone, restored, vol]) {
    await step(`DeleteVolume ${id.slice(0, 8)}`, () => call(o.controller, 'DeleteVolume', { volume_id: id }, 'delete'));
  }
  return {
    steps,
    dataMatched: o.dataPath ? { nodeB: matchB, restore: matchRestore, clone: matchClone } : undefined,
    ...(expandedBytes !== undefined ? { expandedBytes } : {}),
    volumeIds,
    snapshotIds,
  };
}
