import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@grpc/grpc-js';
import { startApp, type RunningApp } from '../../src/app/app.js';
import { DEFAULTS } from '../../src/app/options.js';
import { createLogger } from '../../src/log/logger.js';
import { parseEnvFile } from '../real-tier/env.js';
import { csiClients, rpcStatus, type CsiClients } from '../helpers/csi-client.js';
import { freePort, Guest, makeDisk, REPO_ROOT } from './guest.js';
import type { KernelTier } from './tier.js';

/**
 * Everything one real-kernel run needs: the controller on the host (in this process) against the
 * real Cinder, the QEMU guest with the node plugin inside, a CSI client for each, and the
 * kubelet-like steps the scenarios take (paths, capabilities, ABORTED retries).
 */
export const GiB = 1024 ** 3;
export const NODE_NAME = 'kernel-node';
export const KUBELET = '/var/lib/kubelet';
/** The noauth project of this tier's volumes (apart from the contract suite's and the real tier's). */
const PROJECT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/** The real Ceph behind Cinder's RBD backend, when the harness runs one (CEPH=1). */
export interface RigCeph {
  /** client.cinder's key: the StorageClass's node-stage secret. */
  key: string;
  pool: string;
  /** `rbd` arguments for the host's own client (watchers, features): conf and keyring. */
  hostArgs: string[];
  volumeType: string;
  multiattachType: string;
}

export interface Rig {
  tier: KernelTier;
  ceph: RigCeph | undefined;
  guest: Guest;
  controller: CsiClients;
  node: Client;
  share: string;
  /** ABORTED is retried, as the sidecars and kubelet do; other failures throw with the code. */
  call<T = any>(client: Client, method: string, req: unknown, timeoutMs?: number): Promise<T>;
  status(client: Client, method: string, req: unknown, timeoutMs?: number): Promise<{ code: number; details: string }>;
  startNode(extra?: string[]): Promise<void>;
  stopNode(signal?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startRig(tier: KernelTier, opts: { multipathd?: boolean } = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'cmc-kernel-'));
  const share = join(dir, 'share');
  const disk = join(dir, 'state.img');
  await makeDisk(disk);
  const cleanups: Array<() => Promise<unknown>> = [() => rm(dir, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const portals = [tier.cinder.opt('ISCSI_PORTAL'), tier.cinder.opt('ISCSI_PORTAL2')].filter((p): p is string => !!p);
    const ceph = cephOf(tier);
    const fwdPorts = [...portals.map((p) => Number(p.split(':').at(-1))), ...(ceph?.ports ?? [])];
    const hostPorts = { agent: await freePort(), csi: await freePort() };
    const guest = await Guest.boot({
      share,
      disk,
      fwdPorts,
      hostPorts,
      iqn: `iqn.2004-10.org.example:${NODE_NAME}-${randomBytes(3).toString('hex')}`,
      multipathd: opts.multipathd ?? true,
    });
    cleanups.push(() => guest.shutdown());

    const cloudConf = join(dir, 'cloud.conf');
    const cinderUrl = tier.cinder.get('CINDER_URL');
    await writeFile(cloudConf, `[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = ${cinderUrl}/v3/${PROJECT}\ncluster-id = kernel-tier\nignore-volume-az = true\n`, {
      mode: 0o600,
    });
    const log = createLogger({ level: process.env.KERNEL_TIER_LOG === 'debug' ? 'debug' : 'warn' });
    const app: RunningApp = await startApp(
      {
        mode: 'controller',
        endpoint: `unix://${join(dir, 'controller.sock')}`,
        cloudConfig: cloudConf,
        logLevel: 'warn',
        kubeletDir: KUBELET,
        stateDir: join(dir, 'controller-state'),
        hostExec: DEFAULTS.hostExec,
        shutdownGraceSeconds: 5,
        connectorRegistry: `dir:${join(share, 'registry')}`,
      },
      log,
    );
    cleanups.push(() => app.stop(5_000));
    const controller = csiClients(app.server.address);
    cleanups.push(async () => controller.close());
    const nodeClients = csiClients(`127.0.0.1:${hostPorts.csi}`);
    cleanups.push(async () => nodeClients.close());

    const status = async (client: Client, method: string, req: unknown, timeoutMs = 300_000) => rpcStatus(client, method, req, timeoutMs);
    const call = async <T>(client: Client, method: string, req: unknown, timeoutMs = 300_000): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        const out = await rpcStatus<T>(client, method, req, timeoutMs);
        if (out.code === 0) return out.res as T;
        if (out.code !== 10 || attempt > 200) throw Object.assign(new Error(`${method}: code ${out.code}: ${out.details}`), { code: out.code });
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const startNode = async (extra: string[] = []): Promise<void> => {
      await guest.start('node', [
        process.execPath,
        join(REPO_ROOT, 'dist', 'cli', 'main.js'),
        '--mode', 'node',
        '--endpoint', 'tcp://0.0.0.0:7001',
        '--node-name', NODE_NAME,
        '--node-ip', '10.0.2.15',
        '--kubelet-dir', KUBELET,
        '--state-dir', '/var/lib/cinder-metal-csi',
        '--connector-registry', 'dir:/vmrun/registry',
        ...(extra.includes('--log-level') ? [] : ['--log-level', 'debug']),
        ...extra,
      ]);
      const until = Date.now() + 120_000;
      for (;;) {
        const probe = await rpcStatus<{ ready?: { value?: boolean } }>(nodeClients.identity, 'Probe', {}, 5_000).catch(() => undefined);
        if (probe?.code === 0 && probe.res?.ready?.value) return;
        if (Date.now() > until) throw new Error(`the node plugin did not become ready:\n${guest.log('node').slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const stopNode = async (signal = 'SIGTERM'): Promise<void> => {
      await guest.stop('node', signal);
    };
    return { tier, ceph: ceph?.rig, guest, controller, node: nodeClients.node, share, call, status, startNode, stopNode, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Ceph's env file (test/real-ceph/up.sh), named by the Cinder harness's CINDER_CEPH_ENV. */
function cephOf(tier: KernelTier): { rig: RigCeph; ports: number[] } | undefined {
  const file = tier.cinder.opt('CINDER_CEPH_ENV');
  if (!file) return undefined;
  const v = parseEnvFile(readFileSync(file, 'utf8'));
  const need = (name: string): string => {
    const x = v[name];
    if (!x) throw new Error(`${file} has no ${name}; re-run test/real-ceph/up.sh`);
    return x;
  };
  return {
    rig: {
      key: need('CEPH_CLIENT_KEY'),
      pool: need('CEPH_POOL'),
      hostArgs: ['-c', need('CEPH_CONF'), '--id', need('CEPH_CLIENT'), '--keyring', need('CEPH_CLIENT_KEYRING')],
      volumeType: tier.cinder.get('RBD_VOLUME_TYPE'),
      multiattachType: tier.cinder.get('RBD_MULTIATTACH_VOLUME_TYPE'),
    },
    ports: need('CEPH_MON_PORTS').split(/\s+/).filter(Boolean).map(Number),
  };
}
