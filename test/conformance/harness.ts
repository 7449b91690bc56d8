import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { startApp, type RunningApp } from '../../src/app/app.js';
import { DEFAULTS, type AppOptions } from '../../src/app/options.js';
import { findLeftovers } from '../../src/demo/leftovers.js';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { startEmulator, type FaultConfig, type RunningEmulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/log/logger.js';
import { csiClients, rpc, rpcStatus, type CsiClients } from '../helpers/csi-client.js';

/**
 * The system under test for the conformance suite: the Cinder emulator over real HTTP, the
 * driver in `all` mode (controller + node "node-a") on a unix socket, and a second node plugin
 * ("node-b") so publish conflicts across two node ids can be exercised. Both share one kubelet
 * root under a fresh temp dir; stop() removes everything it created.
 */
export interface Harness {
  dir: string;
  kubeletDir: string;
  emulator: RunningEmulator;
  all: CsiClients;
  nodeA: { client: Client; nodeId: string; name: string };
  nodeB: { client: Client; nodeId: string; name: string };
  stop(): Promise<void>;
}

export const GiB = 1024 ** 3;

export const Code = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
} as const;

export async function startHarness(opts: { faults?: FaultConfig } = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'cmc-conf-'));
  const kubeletDir = join(dir, 'kubelet');
  await mkdir(kubeletDir, { recursive: true });
  const cleanups: Array<() => Promise<unknown> | void> = [];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    await scrubHost(dir, kubeletDir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const emulator = await startEmulator({
      stateDir: join(dir, 'cinder'),
      quotas: { volumes: 200, snapshots: 200, gigabytes: 10_000 },
      // The default type's specs exactly: a retype Cinder does in place (ControllerModifyVolume).
      volumeTypes: [{ name: 'conf-gold', description: 'the default type\'s specs', extraSpecs: {} }],
      ...(opts.faults ? { faults: opts.faults } : {}),
    });
    cleanups.push(() => emulator.stop());
    const cloudConf = join(dir, 'cloud.conf');
    await writeFile(cloudConf, `[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = ${emulator.cinderEndpoint}\ncluster-id = conf\n`, { mode: 0o600 });
    const base: AppOptions = {
      mode: 'all',
      endpoint: `unix://${join(dir, 'all.sock')}`,
      cloudConfig: cloudConf,
      nodeName: 'node-a',
      nodeIp: '127.0.0.1',
      // With a zone NodeGetInfo reports topology, which the plugin then advertises.
      nodeZone: 'nova',
      logLevel: 'silent',
      kubeletDir,
      stateDir: join(dir, 'state-a'),
      hostExec: DEFAULTS.hostExec,
      shutdownGraceSeconds: 2,
      connectorRegistry: `dir:${join(dir, 'connectors')}`,
      multipath: 'off',
    };
    const log = silentLogger();
    const allApp: RunningApp = await startApp(base, log);
    cleanups.push(() => allApp.stop(2000));
    const all = csiClients(allApp.server.address);
    cleanups.push(() => all.close());
    const bApp = await startApp(
      { ...base, mode: 'node', nodeName: 'node-b', endpoint: `unix://${join(dir, 'b.sock')}`, stateDir: join(dir, 'state-b'), cloudConfig: undefined },
      log,
    );
    cleanups.push(() => bApp.stop(2000));
    const b = csiClients(bApp.server.address);
    cleanups.push(() => b.close());
    const infoA = await rpc<{ node_id: string }>(all.node, 'NodeGetInfo', {});
    const infoB = await rpc<{ node_id: string }>(b.node, 'NodeGetInfo', {});
    return {
      dir,
      kubeletDir,
      emulator,
      all,
      nodeA: { client: all.node, nodeId: infoA.node_id, name: 'node-a' },
      nodeB: { client: b.node, nodeId: infoB.node_id, name: 'node-b' },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Calls an RPC, retrying while the driver answers ABORTED (operation still in progress), as the sidecars do. */
export async function call<T = any>(client: Client, method: string, req: unknown): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const out = await rpcStatus<T>(client, method, req, 30_000);
    if (out.code === Code.OK) return out.res as T;
    if (out.code !== Code.ABORTED || attempt > 100) {
      throw Object.assign(new Error(`${method} failed: code ${out.code}: ${out.details}`), { code: out.code, details: out.details });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Like rpcStatus, but waits out ABORTED answers first. */
export async function status<T = any>(client: Client, method: string, req: unknown): Promise<{ code: number; details: string; res?: T }> {
  for (let attempt = 0; ; attempt++) {
    const out = await rpcStatus<T>(client, method, req, 30_000);
    if (out.code !== Code.ABORTED || attempt > 100) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const mountCap = (fsType = 'ext4', mode = 'SINGLE_NODE_WRITER') => ({ mount: { fs_type: fsType, mount_flags: [] }, access_mode: { mode } });
export const blockCap = (mode = 'SINGLE_NODE_WRITER') => ({ block: {}, access_mode: { mode } });

let seq = 0;
export const uniqueName = (prefix: string): string => `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq++}`;

export async function createVolume(h: Harness, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await call(h.all.controller, 'CreateVolume', {
    name,
    capacity_range: { required_bytes: String(GiB) },
    volume_capabilities: [mountCap()],
    parameters: {},
    ...extra,
  });
  return res.volume;
}

/** Kubelet-style paths under the shared kubelet root. */
export function nodePaths(h: Harness, volumeId: string, node: string): { staging: string; target: string } {
  return {
    staging: join(h.kubeletDir, 'plugins', 'kubernetes.io', 'csi', 'cinder.metal.csi.kungze.io', `${node}-${volumeId}`, 'globalmount'),
    target: join(h.kubeletDir, 'pods', `pod-${node}-${volumeId}`, 'volumes', 'kubernetes.io~csi', volumeId, 'mount'),
  };
}

export async function leftovers(h: Harness): Promise<string[]> {
  return findLeftovers({ dir: h.dir, kubeletDir: h.kubeletDir, emulator: h.emulator });
}

/** Cinder objects straight from the emulator (admin view), bypassing the driver. */
export async function cinderList(h: Harness | { emulator: RunningEmulator }, kind: 'volumes' | 'snapshots' | 'backups' | 'attachments'): Promise<any[]> {
  const headers = { 'X-Auth-Token': `admin:${h.emulator.projectId}`, 'OpenStack-API-Version': 'volume 3.70' };
  const res = await fetch(`${h.emulator.cinderEndpoint}/${kind}/detail`, { headers });
  const body = (await res.json()) as Record<string, any[]>;
  return body[kind] ?? [];
}

export const isRoot = process.getuid?.() === 0;

const run = promisify(execFile);

/** Mount points at or under `root`, deepest first. */
export async function mountsUnder(root: string): Promise<string[]> {
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return mounts
    .map((m) => m.mountPoint)
    .filter((p) => p === root || p.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
}

/** How many times `path` is a mount point (a repeated NodeStage must not stack mounts). */
export async function mountCount(path: string): Promise<number> {
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
  return mounts.filter((m) => m.mountPoint === path).length;
}

/** Loop devices whose backing file is under `dir`. */
export async function loopsUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir('/sys/block').catch(() => [] as string[])).filter((n) => n.startsWith('loop'))) {
    const backing = (await readFile(`/sys/block/${name}/loop/backing_file`, 'utf8').catch(() => '')).trim();
    if (backing.startsWith(`${dir}/`)) out.push(`/dev/${name}`);
  }
  return out;
}

/**
 * Last-resort cleanup after a failed test: whatever the driver left mounted under the kubelet
 * root is unmounted and loop devices backed by files under `dir` are detached, so a failing
 * run never leaks host state. A passing run has nothing to scrub (the suites assert that).
 */
export async function scrubHost(dir: string, kubeletDir: string): Promise<void> {
  for (const m of await mountsUnder(kubeletDir)) await run('umount', ['-l', m]).catch(() => undefined);
  for (const loop of await loopsUnder(dir)) await run('losetup', ['-d', loop]).catch(() => undefined);
}

/**
 * Best-effort teardown of a volume after a test, whatever state the test left it in: unpublish
 * the given node targets, unstage, unpublish from both nodes, delete. Errors are swallowed so the
 * test's own failure is the one reported; the final leftovers case catches what this misses.
 */
export async function discardVolume(h: Harness, volumeId: string, node?: { targets?: string[]; staging?: string; on?: 'a' | 'b' }): Promise<void> {
  const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
  const client = node?.on === 'b' ? h.nodeB.client : h.nodeA.client;
  for (const t of node?.targets ?? []) await quiet(status(client, 'NodeUnpublishVolume', { volume_id: volumeId, target_path: t }));
  if (node?.staging) await quiet(status(client, 'NodeUnstageVolume', { volume_id: volumeId, staging_target_path: node.staging }));
  for (const n of [h.nodeA, h.nodeB]) await quiet(status(h.all.controller, 'ControllerUnpublishVolume', { volume_id: volumeId, node_id: n.nodeId }));
  await quiet(status(h.all.controller, 'DeleteVolume', { volume_id: volumeId }));
}
