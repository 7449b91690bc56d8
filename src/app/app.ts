import type { Logger } from '../log/logger.js';
import { loadCloudConfig, type CloudConfig } from '../config/cloud-config.js';
import { controllerBinding, groupControllerBinding, identityBinding, nodeBinding } from '../csi/bindings.js';
import { startCsiServer, type CsiServer } from '../csi/server.js';
import { UNIMPLEMENTED, type ControllerRpcs, type GroupControllerRpcs, type NodeRpcs } from '../csi/service-types.js';
import { IdentityService } from '../services/identity.js';
import { runsController, runsNode } from '../services/capabilities.js';
import { startHttpEndpoint, type HttpEndpoint } from './http-endpoint.js';
import type { AppOptions } from './options.js';
import type { ConnectorRegistry } from '../services/node-registry/registry.js';

export interface RunningApp {
  server: CsiServer;
  http?: HttpEndpoint;
  /** Graceful stop: no new RPCs, in-flight ones finish within graceMs, socket removed. */
  stop(graceMs: number): Promise<{ drained: boolean }>;
}

/** What a mode contributes: its RPC handlers (every RPC of its service), readiness and what to close on stop. */
export interface ModeParts<H> {
  handlers: H;
  /** The controller's GroupController service. */
  groups?: GroupControllerRpcs;
  ready: () => Promise<boolean> | boolean;
  close?: () => Promise<void>;
}

/** The composition root: builds the object graph for --mode controller|node|all. */
export async function startApp(options: AppOptions, log: Logger): Promise<RunningApp> {
  let config: CloudConfig | undefined;
  if (options.cloudConfig) {
    config = await loadCloudConfig(options.cloudConfig, { role: runsController(options.mode) ? 'controller' : 'node' });
    log.info({ file: config.file, authStrategy: config.blockStorage.authStrategy, clusterId: config.blockStorage.clusterId }, 'cloud config loaded');
  }
  const registry = await buildRegistry(options);
  log.info({ registry: registry.description }, 'connector registry');
  const controller = runsController(options.mode) ? await buildController(options, config, registry, log) : undefined;
  const node = runsNode(options.mode) ? await buildNode(options, config, registry, log) : undefined;
  const parts = [controller, node].filter((p): p is ModeParts<ControllerRpcs> | ModeParts<NodeRpcs> => p !== undefined);
  const ready = async (): Promise<boolean> => (await Promise.all(parts.map((p) => p.ready()))).every(Boolean);
  const identity = new IdentityService(
    options.mode,
    ready,
    () => controller !== undefined && controller.handlers.ControllerExpandVolume !== UNIMPLEMENTED,
    options.nodeZone !== undefined,
  );

  const server = await startCsiServer(
    options.endpoint,
    [identityBinding(identity), controllerBinding(controller?.handlers), groupControllerBinding(controller?.groups), nodeBinding(node?.handlers)],
    log,
  );
  const http = options.httpEndpoint ? await startHttpEndpoint(options.httpEndpoint, ready, log) : undefined;
  return {
    server,
    ...(http ? { http } : {}),
    stop: async (graceMs) => {
      const result = await server.shutdown(graceMs);
      await http?.close();
      for (const p of parts) await p.close?.();
      return result;
    },
  };
}

/**
 * Where connector records live: the Kubernetes API inside a pod, else a directory (one host:
 * `--mode all`, the demo, the test tiers).
 */
async function buildRegistry(options: AppOptions): Promise<ConnectorRegistry> {
  const { inClusterConfig, KubeClient } = await import('../kube/client.js');
  const spec = options.connectorRegistry ?? ((await inClusterConfig()) ? 'kubernetes' : `dir:${options.stateDir}/connectors`);
  if (spec === 'kubernetes') {
    const cfg = await inClusterConfig();
    if (!cfg) throw new Error('--connector-registry kubernetes needs the pod\'s service account (KUBERNETES_SERVICE_HOST/PORT are not set)');
    const { KubernetesRegistry } = await import('../services/node-registry/kubernetes.js');
    return new KubernetesRegistry(new KubeClient(cfg));
  }
  const { DirectoryRegistry } = await import('../services/node-registry/registry.js');
  return new DirectoryRegistry(spec.slice('dir:'.length));
}

async function buildController(_options: AppOptions, config: CloudConfig | undefined, registry: ConnectorRegistry, log: Logger): Promise<ModeParts<ControllerRpcs>> {
  if (!config) throw new Error('--cloud-config is required in controller mode');
  // Loaded on demand: a node plugin never pays for the Cinder client (axios) at start-up.
  const { createCinderClient, createControllerWaiters } = await import('../cinder/index.js');
  const { createControllerOperations, META_CLUSTER } = await import('../services/controller/index.js');
  const { controllerRpcs } = await import('../csi/controller.js');
  const { groupControllerRpcs } = await import('../csi/group-controller.js');
  const controllerLog = log.child({ service: 'controller' });
  // cloud.conf's [Global] keys map one to one onto the client's config; [BlockStorage] adds the
  // strategy and the endpoint.
  const cinder = await createCinderClient(
    { ...config.global, authStrategy: config.blockStorage.authStrategy, cinderEndpoint: config.blockStorage.cinderEndpoint },
    { log: controllerLog },
  );
  // The cluster tag narrows the volume waiter's lists to this cluster's volumes when all it waits for carry it.
  const waiter = createControllerWaiters(cinder, { log: controllerLog, clusterTag: { key: META_CLUSTER, value: config.blockStorage.clusterId } });
  const operations = createControllerOperations({
    cinder,
    waiter,
    clusterId: config.blockStorage.clusterId,
    registry,
    ignoreVolumeAz: config.blockStorage.ignoreVolumeAz,
    log: controllerLog,
  });
  // Probe is local readiness: the config loaded and the client built. It never calls Cinder.
  const rpcs: ControllerRpcs = controllerRpcs(operations);
  const close = async (): Promise<void> => {
    // The waiters' timers first: a tick must not reach a closed client.
    waiter.stop();
    await cinder.close();
  };
  return { handlers: rpcs, groups: groupControllerRpcs(operations), ready: () => true, close };
}

async function buildNode(options: AppOptions, config: CloudConfig | undefined, registry: ConnectorRegistry, log: Logger): Promise<ModeParts<NodeRpcs>> {
  const nodeLog = log.child({ service: 'node' });
  // Loaded on demand: a controller never pays for the host seam (execa) at start-up.
  const { createNodeService } = await import('../services/node/index.js');
  const { ExecaExec } = await import('../host/exec-execa.js');
  const exec = new ExecaExec({ mode: options.hostExec, log: nodeLog });
  const { buildNodeHost } = await import('./node-host.js');
  const { nodeRpcs } = await import('../csi/node.js');
  // Programs are looked up in the root they run in: ours, the chroot's, or PID 1's.
  const hostRoot = options.hostExec === 'chroot' ? '/host' : options.hostExec === 'nsenter' ? '/proc/1/root' : '/';
  const maxVolumes = options.maxVolumesPerNode ?? config?.blockStorage.nodeVolumeAttachLimit;
  const node = await createNodeService({
    host: buildNodeHost({ exec, log: nodeLog, stateDir: options.stateDir, hostRoot }),
    nodeName: requireOption(options.nodeName, '--node-name'),
    stateDir: options.stateDir,
    kubeletDir: options.kubeletDir,
    ...(options.nodeIp ? { nodeIp: options.nodeIp } : {}),
    ...(options.nodeZone ? { zone: options.nodeZone } : {}),
    ...(maxVolumes !== undefined ? { maxVolumesPerNode: maxVolumes } : {}),
    registry,
    ...(options.multipath ? { multipath: options.multipath } : {}),
    log: nodeLog,
  });
  if (!node.ready()) nodeLog.error('the node id cannot be built; NodeGetInfo will fail until this is fixed');
  else nodeLog.info({ nodeId: node.nodeId }, 'node plugin ready');
  return { handlers: nodeRpcs(node.operations), ready: () => node.ready(), close: async () => node.close() };
}

function requireOption(v: string | undefined, flag: string): string {
  if (!v) throw new Error(`${flag} is required`);
  return v;
}
