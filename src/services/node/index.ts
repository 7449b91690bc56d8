import type { Logger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { keyFingerprint } from '../node-id.js';
import type { ConnectorRegistry } from '../node-registry/registry.js';
import { nodeExpand } from './expand.js';
import { describeHostTools } from './host-tools.js';
import { ConnectorPublisher } from './connector-publisher.js';
import { sweepOrphansAtStart } from './orphans.js';
import { gatherConnectorFacts, type MultipathPolicy } from './connector-facts.js';
import { loadOrCreateNodeKeys } from './key-store.js';
import { makeNodeId, nodeGetInfo, type NodeIdResult, type NodeInfo } from './node-info.js';
import { nodePublish } from './publish.js';
import type { ExpandRequest, PublishRequest, StageRequest, StatsRequest, UnpublishRequest, UnstageRequest, VolumeStats } from './requests.js';
import type { NodeHost, NodeRuntime } from './runtime.js';
import { nodeStage } from './stage.js';
import { nodeGetVolumeStats } from './stats.js';
import { nodeUnpublish } from './unpublish.js';
import { nodeUnstage } from './unstage.js';

export interface NodeDeps {
  /** The host objects (src/app/node-host.ts builds the real ones). */
  host: NodeHost;
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
  /** Remove what a crash or reboot left before serving (orphans.ts). Default: yes. */
  sweepAtStart?: boolean;
}

/** The node's use cases, on validated requests (the gRPC edge, src/csi/node.ts, adapts them). */
export interface NodeOperations {
  info(): NodeInfo;
  stage(req: StageRequest, ctx: RpcContext): Promise<void>;
  unstage(req: UnstageRequest, ctx: RpcContext): Promise<void>;
  publish(req: PublishRequest, ctx: RpcContext): Promise<void>;
  unpublish(req: UnpublishRequest, ctx: RpcContext): Promise<void>;
  stats(req: StatsRequest, ctx: RpcContext): Promise<VolumeStats>;
  expand(req: ExpandRequest, ctx: RpcContext): Promise<{ capacityBytes: number }>;
}

export interface NodeService {
  operations: NodeOperations;
  /** Local readiness for Probe: the node key is loaded and the node id could be built. */
  ready(): boolean;
  /** '' when it could not be built (NodeGetInfo then fails with the reason). */
  nodeId: string;
  close(): void;
}

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
        exec: deps.host.exec,
        multipath: deps.multipath ?? 'auto',
        ...(deps.nodeIp ? { nodeIp: deps.nodeIp } : {}),
        ...(deps.iscsiInitiatorFile ? { initiatorFile: deps.iscsiInitiatorFile } : {}),
      }),
    log: deps.log,
  });
  if (id.ok) await publisher.start();

  deps.log.info(`node host tools: ${describeHostTools(await deps.host.tools.survey())}`);

  const rt: NodeRuntime = {
    ...deps.host,
    key: keys.seal,
    kubeletDir: deps.kubeletDir,
    stateDir: deps.stateDir,
    log: deps.log,
  };

  if (deps.sweepAtStart ?? true) await sweepOrphansAtStart(rt.connectors, deps.kubeletDir, deps.stateDir, deps.log);

  const operations = nodeOperations(rt, id, deps);
  return { operations, ready: () => id.ok, nodeId: id.ok ? id.nodeId : '', close: () => publisher.stop() };
}

function nodeOperations(rt: NodeRuntime, id: NodeIdResult, deps: Pick<NodeDeps, 'maxVolumesPerNode' | 'zone'>): NodeOperations {
  return {
    info: () => nodeGetInfo(id, { maxVolumesPerNode: deps.maxVolumesPerNode, zone: deps.zone }),
    stage: (req, ctx) => nodeStage(rt, req, ctx),
    unstage: (req, ctx) => nodeUnstage(rt, req, ctx),
    publish: (req, ctx) => nodePublish(rt, req, ctx),
    unpublish: (req, ctx) => nodeUnpublish(rt, req, ctx),
    stats: (req, ctx) => nodeGetVolumeStats(rt, req, ctx),
    expand: (req, ctx) => nodeExpand(rt, req, ctx),
  };
}
