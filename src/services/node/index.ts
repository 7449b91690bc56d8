import { join } from 'node:path';
import type { Connectors } from '../../brick/connector.js';
import { createConnectors, type ConnectorDeps } from '../../brick/connectors.js';
import type { NodeExpandVolumeRequest__Output } from '../../generated/csi/v1/NodeExpandVolumeRequest.js';
import type { NodeGetVolumeStatsRequest__Output } from '../../generated/csi/v1/NodeGetVolumeStatsRequest.js';
import type { NodePublishVolumeRequest__Output } from '../../generated/csi/v1/NodePublishVolumeRequest.js';
import type { NodeStageVolumeRequest__Output } from '../../generated/csi/v1/NodeStageVolumeRequest.js';
import type { NodeUnpublishVolumeRequest__Output } from '../../generated/csi/v1/NodeUnpublishVolumeRequest.js';
import type { NodeUnstageVolumeRequest__Output } from '../../generated/csi/v1/NodeUnstageVolumeRequest.js';
import type { Exec } from '../../host/exec.js';
import { Filesystem } from '../../host/filesystem.js';
import { ProgramLocator, type ProgramFinder } from '../../host/host-programs.js';
import { NodeHostFs } from '../../host/host-fs.js';
import { Mounter } from '../../host/mounter.js';
import type { Logger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { NODE_CAPABILITIES } from '../capabilities.js';
import { keyFingerprint } from '../node-id.js';
import type { ConnectorRegistry } from '../node-registry/registry.js';
import { nodeExpand } from './expand.js';
import { describeHostTools, HostTools } from './host-tools.js';
import { ConnectorPublisher } from './connector-publisher.js';
import { sweepOrphansAtStart } from './orphans.js';
import { gatherConnectorFacts, type MultipathPolicy } from './connector-facts.js';
import { loadOrCreateNodeKeys } from './key-store.js';
import { makeNodeId, nodeGetInfo, type NodeIdResult } from './node-info.js';
import { nodePublish } from './publish.js';
import type { NodeRuntime } from './runtime.js';
import { nodeStage } from './stage.js';
import { nodeGetVolumeStats } from './stats.js';
import { nodeUnpublish } from './unpublish.js';
import { nodeUnstage } from './unstage.js';

export interface NodeDeps {
  exec: Exec;
  /** The Kubernetes node name (the first field of the node id). */
  nodeName: string;
  /** The plugin's own directory on the host: the node key lives here. */
  stateDir: string;
  /** Every staging and target path must resolve under it (e.g. /var/lib/kubelet). */
  kubeletDir: string;
  /** The storage IP Cinder exports to; default: the address of the default-route interface. */
  nodeIp?: string;
  /** Where this node publishes its connector record for controllers to read. */
  registry: ConnectorRegistry;
  /** Whether to ask Cinder for every path: on, off, or auto (when multipathd answers). */
  multipath?: MultipathPolicy;
  zone?: string;
  maxVolumesPerNode?: number;
  /** Default /etc/iscsi/initiatorname.iscsi; a missing file means "no iSCSI on this node". */
  iscsiInitiatorFile?: string;
  log: Logger;
  /** Upper bound for a device to appear after connecting. Default 60 s. */
  deviceTimeoutMs?: number;
  /** Where mounts are read (e.g. /proc/1/mountinfo when host programs run via nsenter). */
  mountinfoPath?: string;
  /** Injected connectors (tests with a scripted host); default: built from exec. */
  connectors?: Connectors;
  /** Remove what a crash or reboot left before serving (orphans.ts). Default: yes. */
  sweepAtStart?: boolean;
  /** Where host programs are looked up; default: this process's root. */
  programs?: ProgramFinder;
  /** The root host programs run in, as this process sees it ("/", "/host", "/proc/1/root"). Default "/". */
  hostRoot?: string;
}

/** One handler per CSI Node RPC, taking the request and answering the response of its RPC. */
export type NodeHandlers = ReturnType<typeof nodeHandlers>;

export interface NodeService {
  handlers: NodeHandlers;
  /** Local readiness for Probe: the node key is loaded and the node id could be built. */
  ready(): boolean;
  /** '' when it could not be built (NodeGetInfo then fails with the reason). */
  nodeId: string;
  close(): void;
}

const DEFAULT_DEVICE_TIMEOUT_MS = 60_000;

/** Builds the node service: loads (or makes) the node keys, the stable node id, its connector record, the host. */
export async function createNodeService(deps: NodeDeps): Promise<NodeService> {
  const keys = await loadOrCreateNodeKeys(deps.stateDir);
  const id: NodeIdResult = makeNodeId({ nodeName: deps.nodeName, fingerprint: keyFingerprint(keys.seal.publicKey, keys.sign.publicKey) });
  if (!id.ok) deps.log.error({ reason: id.reason }, 'node id unavailable: NodeGetInfo will fail');
  else deps.log.info({ nodeId: id.nodeId }, 'node id');

  const publisher = new ConnectorPublisher({
    nodeName: deps.nodeName,
    keys,
    registry: deps.registry,
    gather: () =>
      gatherConnectorFacts({
        nodeName: deps.nodeName,
        exec: deps.exec,
        multipath: deps.multipath ?? 'auto',
        ...(deps.nodeIp ? { nodeIp: deps.nodeIp } : {}),
        ...(deps.iscsiInitiatorFile ? { initiatorFile: deps.iscsiInitiatorFile } : {}),
      }),
    log: deps.log,
  });
  if (id.ok) await publisher.start();

  const programs = deps.programs ?? new ProgramLocator();
  const tools = new HostTools(programs);
  deps.log.info(`node host tools: ${describeHostTools(await tools.survey())}`);

  const deviceTimeoutMs = deps.deviceTimeoutMs ?? DEFAULT_DEVICE_TIMEOUT_MS;
  const rt: NodeRuntime = {
    exec: deps.exec,
    mounter: new Mounter(deps.exec, deps.mountinfoPath ? { mountinfoPath: deps.mountinfoPath } : {}),
    filesystem: new Filesystem(deps.exec),
    tools,
    connectors:
      deps.connectors ??
      createConnectors({
        exec: deps.exec,
        fs: new NodeHostFs(),
        log: deps.log,
        iscsi: { deviceTimeoutMs },
        rbd: rbdOptions(deps, programs),
      }),
    key: keys.seal,
    kubeletDir: deps.kubeletDir,
    stateDir: deps.stateDir,
    deviceTimeoutMs,
    log: deps.log,
  };

  if (deps.sweepAtStart ?? true) await sweepOrphansAtStart(rt.connectors, deps.kubeletDir, deps.stateDir, deps.log);

  const handlers = nodeHandlers(rt, id, deps);
  return { handlers, ready: () => id.ok, nodeId: id.ok ? id.nodeId : '', close: () => publisher.stop() };
}

/**
 * Key files go to the host's /dev/shm (a tmpfs) as this process reaches it, and are named to
 * `rbd` as it sees them; the map journal lives in the plugin's state directory.
 */
function rbdOptions(deps: NodeDeps, programs: ProgramFinder): NonNullable<ConnectorDeps['rbd']> {
  const hostRoot = deps.hostRoot ?? '/';
  return {
    keyDir: join(hostRoot, 'dev/shm'),
    keyDirForExec: '/dev/shm',
    hostRoot,
    programs,
    journalDir: join(deps.stateDir, 'rbd-maps'),
    ...(deps.mountinfoPath ? { mountinfoPath: deps.mountinfoPath } : {}),
  };
}

function nodeHandlers(rt: NodeRuntime, id: NodeIdResult, deps: Pick<NodeDeps, 'maxVolumesPerNode' | 'zone'>) {
  return {
    NodeGetInfo: () => Promise.resolve(nodeGetInfo(id, { maxVolumesPerNode: deps.maxVolumesPerNode, zone: deps.zone })),
    NodeGetCapabilities: () => Promise.resolve({ capabilities: NODE_CAPABILITIES.map((type) => ({ rpc: { type } })) }),
    NodeStageVolume: (req: NodeStageVolumeRequest__Output, ctx: RpcContext) => nodeStage(rt, req, ctx),
    NodeUnstageVolume: (req: NodeUnstageVolumeRequest__Output, ctx: RpcContext) => nodeUnstage(rt, req, ctx),
    NodePublishVolume: (req: NodePublishVolumeRequest__Output, ctx: RpcContext) => nodePublish(rt, req, ctx),
    NodeUnpublishVolume: (req: NodeUnpublishVolumeRequest__Output, ctx: RpcContext) => nodeUnpublish(rt, req, ctx),
    NodeGetVolumeStats: (req: NodeGetVolumeStatsRequest__Output, ctx: RpcContext) => nodeGetVolumeStats(rt, req, ctx),
    NodeExpandVolume: (req: NodeExpandVolumeRequest__Output, ctx: RpcContext) => nodeExpand(rt, req, ctx),
  };
}
