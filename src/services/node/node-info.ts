import { failedPrecondition } from '../../util/errors.js';
import { formatNodeId, type NodeIdentity } from '../node-id.js';

/**
 * The node id is computed once at start from the node name and the fingerprint of the node's
 * keys, which never change (the connector facts travel in the signed record instead). When it
 * cannot be made (a name too long for 192 bytes), the reason is kept and NodeGetInfo fails with
 * it, so kubelet's registration shows the operator what to fix.
 */
export type NodeIdResult = { ok: true; nodeId: string } | { ok: false; reason: string };

export function makeNodeId(identity: NodeIdentity): NodeIdResult {
  try {
    return { ok: true, nodeId: formatNodeId(identity) };
  } catch (err) {
    return { ok: false, reason: `cannot build this node's id: ${(err as Error).message}` };
  }
}

/** What NodeGetInfo tells the CO about this node. */
export interface NodeInfo {
  nodeId: string;
  /** Only a positive limit: 0 means "no limit" to the CO. */
  maxVolumesPerNode?: number;
  zone?: string;
}

export function nodeGetInfo(id: NodeIdResult, opts: { maxVolumesPerNode?: number; zone?: string }): NodeInfo {
  if (!id.ok) throw failedPrecondition(id.reason);
  return {
    nodeId: id.nodeId,
    ...(opts.maxVolumesPerNode !== undefined && opts.maxVolumesPerNode > 0 ? { maxVolumesPerNode: opts.maxVolumesPerNode } : {}),
    ...(opts.zone ? { zone: opts.zone } : {}),
  };
}
