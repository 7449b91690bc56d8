import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../app/app.js';
import { DEFAULTS, type AppOptions } from '../app/options.js';
import { startEmulator, type RunningEmulator } from '../emulator/index.js';
import type { Logger } from '../log/logger.js';
import { csiClients, rpc, type CsiClients } from './csi-client.js';

/**
 * A whole deployment on one machine: the embedded Cinder emulator, a controller, and two node
 * plugins with their own node ids, key pairs and sockets sharing one kubelet root — what the
 * demo and the end-to-end tests drive.
 */
export interface Stack {
  emulator: RunningEmulator;
  dir: string;
  kubeletDir: string;
  controller: { app: RunningApp; clients: CsiClients };
  nodes: Array<{ name: string; app: RunningApp; clients: CsiClients; nodeId: string; stateDir: string }>;
  stop(): Promise<void>;
}

export interface StackOptions {
  log: Logger;
  delayMs?: number;
  nodeNames?: string[];
  /** Whether node plugins run (they need root for loop devices and mounts). */
  withNodes: boolean;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'cinder-metal-csi-'));
  const kubeletDir = join(dir, 'kubelet');
  const started: Array<() => Promise<unknown>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const emulator = await startEmulator({ delayMs: o.delayMs ?? 0, stateDir: join(dir, 'cinder') });
    started.push(() => emulator.stop());
    const cloudConf = join(dir, 'cloud.conf');
    await writeFile(
      cloudConf,
      `[BlockStorage]\nauth-strategy = noauth\ncinder-endpoint = ${emulator.cinderEndpoint}\ncluster-id = demo\n`,
      { mode: 0o600 },
    );
    const base: AppOptions = {
      mode: 'controller',
      endpoint: `unix://${join(dir, 'controller.sock')}`,
      cloudConfig: cloudConf,
      logLevel: DEFAULTS.logLevel,
      kubeletDir,
      stateDir: join(dir, 'controller-state'),
      hostExec: 'direct',
      shutdownGraceSeconds: 5,
      // One registry the controller and both node plugins of this one-machine deployment share.
      connectorRegistry: `dir:${join(dir, 'connectors')}`,
      multipath: 'off',
    };
    const controllerApp = await startApp(base, o.log.child({ component: 'controller' }));
    started.push(() => controllerApp.stop(5000));
    const controller = { app: controllerApp, clients: csiClients(controllerApp.server.address) };
    started.push(async () => controller.clients.close());

    const nodes: Stack['nodes'] = [];
    if (o.withNodes) {
      for (const name of o.nodeNames ?? ['node-a', 'node-b']) {
        const stateDir = join(dir, `${name}-state`);
        const app = await startApp(
          {
            ...base,
            mode: 'node',
            endpoint: `unix://${join(dir, `${name}.sock`)}`,
            nodeName: name,
            nodeIp: '127.0.0.1',
            stateDir,
            cloudConfig: undefined,
          },
          o.log.child({ component: name }),
        );
        started.push(() => app.stop(5000));
        const clients = csiClients(app.server.address);
        started.push(async () => clients.close());
        const info = await rpc<{ node_id: string }>(clients.node, 'NodeGetInfo', {});
        nodes.push({ name, app, clients, nodeId: info.node_id, stateDir });
      }
    }
    return { emulator, dir, kubeletDir, controller, nodes, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
