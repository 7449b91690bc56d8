import type { NodeExpandVolumeRequest__Output } from '../../generated/csi/v1/NodeExpandVolumeRequest.js';
import type { NodeGetVolumeStatsRequest__Output } from '../../generated/csi/v1/NodeGetVolumeStatsRequest.js';
import type { NodePublishVolumeRequest__Output } from '../../generated/csi/v1/NodePublishVolumeRequest.js';
import type { NodeStageVolumeRequest__Output } from '../../generated/csi/v1/NodeStageVolumeRequest.js';
import type { NodeUnpublishVolumeRequest__Output } from '../../generated/csi/v1/NodeUnpublishVolumeRequest.js';
import type { NodeUnstageVolumeRequest__Output } from '../../generated/csi/v1/NodeUnstageVolumeRequest.js';
import type { Logger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { NODE_CAPABILITIES } from '../capabilities.js';
import { keyFingerprint } from '../node-id.js';
import type { ConnectorRegistry } from '../node-registry/registry.js';
import { nodeExpand } from './expand.js';
import { describeHostTools } from './host-tools.js';
import { ConnectorPublisher } from './connector-publisher.js';
import { sweepOrphansAtStart } from './orphans.js';
import { gatherConnectorFacts, type MultipathPolicy } from './connector-facts.js';
import { loadOrCreateNodeKeys } from './key-store.js';
import { makeNodeId, nodeGetInfo, type NodeIdResult } from './node-info.js';
import { nodePublish } from './publish.js';
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

  const handlers = nodeHandlers(rt, id, deps);
  return { handlers, ready: () => id.ok, nodeId: id.ok ? id.nodeId : '', close: () => publisher.stop() };
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
