import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { csiClients, rpc, type CsiClients } from '../helpers/csi-client.js';
import { spawnDriver, waitUntil, type SpawnedDriver } from '../helpers/spawn-driver.js';
import { scrubHost } from '../conformance/harness.js';

export const run = promisify(execFile);

/**
 * Crash-test rig: the Cinder emulator in this process (so tests can read its stats and flip
 * faults), the driver as a separate process (`dist/cli/main.js --mode all`) that tests SIGKILL
 * and restart with the same flags, state dir and socket, as a DaemonSet pod restart would.
 */
export interface CrashRig {
  dir: string;
  kubeletDir: string;
  emulator: RunningEmulator;
  driver: SpawnedDriver;
  clients: CsiClients;
  nodeId: string;
  /** SIGKILL the driver and wait for it to be gone. */
  kill(): Promise<void>;
  /** Start the driver again (after kill) and reconnect the clients. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRig(emu: EmulatorOptions = {}): Promise<CrashRig> {
  const dir = await mkdtemp(join(tmpdir(), 'cmc-crash-'));
  const kubeletDir = join(dir, 'kubelet');
  await mkdir(kubeletDir, { recursive: true });
  const emulator = await startEmulator({ stateDir: join(dir, 'cinder'), ...emu });
  const cloudConf = join(dir, 'cloud.conf');
  await writeFile(cloudConf, `[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = ${emulator.cinderEndpoint}\ncluster-id = crash\n`, { mode: 0o600 });
  const sock = join(dir, 'csi.sock');
  const args = [
    '--mode', 'all', '--endpoint', `unix://${sock}`, '--node-name', 'crash-node', '--node-ip', '127.0.0.1',
    '--cloud-config', cloudConf, '--kubelet-dir', kubeletDir, '--state-dir', join(dir, 'state'), '--log-level', 'warn',
  ];
  const rig = { dir, kubeletDir, emulator } as CrashRig;
  const launch = async (): Promise<void> => {
    rig.driver = spawnDriver(args);
    rig.clients = csiClients(sock);
    let lastErr = '';
    await waitUntil(async () => {
      try {
        rig.nodeId = (await rpc<{ node_id: string }>(rig.clients.node, 'NodeGetInfo', {}, 1000)).node_id;
        return true;
      } catch (err) {
        lastErr = String(err);
        return rig.driver.child.exitCode !== null ? Promise.reject(new Error(`driver exited: ${rig.driver.stderr.join('')}`)) : false;
      }
    }, `the driver to serve on ${sock} (${lastErr})`, 20_000);
  };
  rig.kill = async () => {
    rig.clients.close();
    if (rig.driver.child.exitCode === null && rig.driver.child.signalCode === null) {
      rig.driver.child.kill('SIGKILL');
      await rig.driver.exited;
    }
  };
  rig.restart = launch;
  rig.stop = async () => {
    await rig.kill().catch(() => undefined);
    await emulator.stop().catch(() => undefined);
    await scrubHost(dir, kubeletDir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await launch();
  } catch (err) {
    await rig.stop();
    throw err;
  }
  return rig;
}
