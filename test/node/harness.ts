import { randomUUID } from 'node:crypto';
import { MemoryRegistry } from '../fakes/memory-registry.js';
import { mkdir, mkdtemp, readFile, realpath, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { LocalConnection } from '../../src/brick/connection-data.js';
import type { VolumeCapability__Output } from '../../src/generated/csi/v1/VolumeCapability.js';
import { ExecaExec } from '../../src/host/exec-execa.js';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { silentLogger } from '../../src/log/logger.js';
import { mapError } from '../../src/csi/error-map.js';
import { nodeRpcs } from '../../src/csi/node.js';
import type { NodeRpcs } from '../../src/csi/service-types.js';
import { buildNodeHost } from '../../src/app/node-host.js';
import { createNodeService, type NodeService } from '../../src/services/node/index.js';
import { encodePublishContext } from '../../src/services/publish-context.js';
import type { RpcContext } from '../../src/util/context.js';

/**
 * A throw-away "host" for the node data path: a temp dir holding a kubelet root, the plugin's
 * state dir and the volumes' backing files, served by the real node service over real loop
 * devices, mkfs and mount. `leftovers()` lists what is still mounted or attached, `cleanup()`
 * removes it whatever state a failed test left.
 */
export const isRoot = process.getuid?.() === 0;

export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;

export interface Volume {
  id: string;
  file: string;
  publishContext: Record<string, string>;
}

export interface Harness {
  base: string;
  kubelet: string;
  stateDir: string;
  svc: NodeService;
  /** Where the node published its connector record. */
  registry: MemoryRegistry;
  call<T = unknown>(method: string, req: Record<string, unknown>): Promise<T>;
  newService(): Promise<NodeService>;
  volume(sizeBytes?: number, opts?: { fileName?: string; accessMode?: 'rw' | 'ro' }): Promise<Volume>;
  stagingPath(v: Volume, kind?: 'mount' | 'block'): Promise<string>;
  targetPath(v: Volume, kind?: 'mount' | 'block'): Promise<string>;
  leftovers(): Promise<{ mounts: string[]; loops: string[] }>;
  cleanup(): Promise<void>;
}

export function ctx(): RpcContext {
  return { requestId: randomUUID(), signal: new AbortController().signal, log: silentLogger() };
}

export function mountCap(fsType = 'ext4', mountFlags: string[] = [], mode = 'SINGLE_NODE_WRITER'): VolumeCapability__Output {
  return { access_type: 'mount', mount: { fs_type: fsType, mount_flags: mountFlags, volume_mount_group: '' }, access_mode: { mode } } as VolumeCapability__Output;
}

export function blockCap(mode = 'SINGLE_NODE_WRITER'): VolumeCapability__Output {
  return { access_type: 'block', block: {}, access_mode: { mode } } as VolumeCapability__Output;
}

export async function createHarness(): Promise<Harness> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'node-data-')));
  const kubelet = join(base, 'kubelet');
  const stateDir = join(base, 'state');
  const volumes = join(base, 'volumes');
  await mkdir(kubelet, { recursive: true });
  await mkdir(volumes, { recursive: true });
  const exec = new ExecaExec();
  const registry = new MemoryRegistry();
  const make = (): Promise<NodeService> =>
    createNodeService({
      host: buildNodeHost({ exec, log: silentLogger(), stateDir, deviceTimeoutMs: 10_000 }),
      nodeName: 'test-node',
      stateDir,
      kubeletDir: kubelet,
      nodeIp: '10.0.0.9',
      registry,
      multipath: 'off',
      log: silentLogger(),
    });
  const svc = await make();

  const h: Harness = {
    base,
    kubelet,
    stateDir,
    svc,
    registry,
    call: async <T>(method: string, req: Record<string, unknown>): Promise<T> => {
      const handler = nodeRpcs(h.svc.operations)[method as keyof NodeRpcs] as unknown as ((r: unknown, c: RpcContext) => Promise<T>) | undefined;
      if (!handler) throw new Error(`no handler ${method}`);
      try {
        return await handler(req, ctx());
      } catch (err) {
        // What the CO would see: the edge's status code and message.
        const mapped = mapError(err);
        throw Object.assign(new Error(mapped.message), { code: mapped.code, cause: err });
      }
    },
    newService: make,
    async volume(sizeBytes = GIB, opts = {}) {
      const id = randomUUID();
      const file = join(volumes, opts.fileName ?? `volume-${id}.img`);
      await rm(file, { force: true });
      await writeFile(file, '');
      await truncate(file, sizeBytes);
      const conn: LocalConnection = { type: 'local', devicePath: file, accessMode: opts.accessMode ?? 'rw' };
      const publicKey = h.svc.nodeId.split(';')[4] ?? '';
      return { id, file, publishContext: encodePublishContext(conn, 'att', id, publicKey) };
    },
    async stagingPath(v, kind = 'mount') {
      // The layouts kubelet uses: a per-volume parent for mount, a shared one for block.
      const p =
        kind === 'mount'
          ? join(kubelet, 'plugins/kubernetes.io/csi/cinder.metal.csi.kungze.io', v.id.replace(/-/g, ''), 'globalmount')
          : join(kubelet, 'plugins/kubernetes.io/csi/volumeDevices/staging', `pv-${v.id}`);
      await mkdir(p, { recursive: true });
      return p;
    },
    async targetPath(v, kind = 'mount') {
      // The parent exists (kubelet makes it), the target itself is made by the plugin.
      const parent =
        kind === 'mount'
          ? join(kubelet, 'pods', randomUUID(), 'volumes/kubernetes.io~csi', `pv-${v.id}`)
          : join(kubelet, 'plugins/kubernetes.io/csi/volumeDevices/publish', `pv-${v.id}`);
      await mkdir(parent, { recursive: true });
      return join(parent, kind === 'mount' ? 'mount' : randomUUID());
    },
    async leftovers() {
      const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'))
        .map((m) => m.mountPoint)
        .filter((p) => p === base || p.startsWith(`${base}/`));
      // `losetup -d` of a loop that another process still holds open (any process on the host
      // probing block devices) only marks it autoclear: the kernel detaches it at the last close.
      // Such a loop is given two seconds; one still there after that was never detached.
      let loops = await loopsUnder(base);
      for (let waited = 0; loops.length > 0 && waited < 2_000; waited += 100) {
        await new Promise((r) => setTimeout(r, 100));
        loops = await loopsUnder(base);
      }
      return { mounts, loops };
    },
    async cleanup() {
      const { mounts } = await h.leftovers();
      for (const m of mounts.reverse()) await execa('umount', ['-l', m], { reject: false });
      for (const l of await loopsUnder(base)) await execa('losetup', ['-d', l], { reject: false });
      const still = await h.leftovers();
      // Never remove a tree with something still mounted inside it.
      if (still.mounts.length === 0) await rm(base, { recursive: true, force: true });
      else console.error(`NOT removing ${base}: still mounted: ${still.mounts.join(', ')}`);
    },
  };
  return h;
}

/** Loop devices whose backing file lies under `dir`. */
export async function loopsUnder(dir: string): Promise<string[]> {
  const { stdout } = await execa('losetup', ['-l', '-n', '-O', 'NAME,BACK-FILE'], { reject: false });
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([name, back]) => name && back && (back === dir || back.startsWith(`${dir}/`)))
    .map(([name]) => name as string);
}

export async function blkidUuid(path: string): Promise<string> {
  const { stdout } = await execa('blkid', ['-p', '-o', 'value', '-s', 'UUID', path], { reject: false });
  return stdout.trim();
}

export async function haveCommand(cmd: string): Promise<boolean> {
  const r = await execa('sh', ['-c', `command -v ${cmd} || test -x /usr/sbin/${cmd} || test -x /sbin/${cmd}`], { reject: false });
  return r.exitCode === 0;
}

export function stageReq(v: Volume, stagingPath: string, cap: VolumeCapability__Output, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { volume_id: v.id, publish_context: v.publishContext, staging_target_path: stagingPath, volume_capability: cap, secrets: {}, volume_context: {}, ...extra };
}

export function publishReq(
  v: Volume,
  stagingPath: string,
  targetPath: string,
  cap: VolumeCapability__Output,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    volume_id: v.id,
    publish_context: v.publishContext,
    staging_target_path: stagingPath,
    target_path: targetPath,
    volume_capability: cap,
    readonly: false,
    secrets: {},
    volume_context: {},
    ...extra,
  };
}

/** Whether this process has a capability (online ext4 resize needs CAP_SYS_RESOURCE = 24). */
export async function hasCapability(bit: number): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex !== undefined && ((BigInt(`0x${hex}`) >> BigInt(bit)) & 1n) === 1n;
}
export const CAP_SYS_RESOURCE = 24;
