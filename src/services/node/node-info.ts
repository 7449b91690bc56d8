import type { NodeGetInfoResponse } from '../../generated/csi/v1/NodeGetInfoResponse.js';
import { failedPrecondition } from '../../util/errors.js';
import { TOPOLOGY_ZONE_KEY } from '../../util/package-info.js';
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

export function nodeGetInfo(
  id: NodeIdResult,
  opts: { maxVolumesPerNode?: number; zone?: string },
): NodeGetInfoResponse {
  if (!id.ok) throw failedPrecondition(id.reason);
  const res: NodeGetInfoResponse = { node_id: id.nodeId };
  // 0 means "no limit" to the CO; only a positive limit is sent.
  if (opts.maxVolumesPerNode !== undefined && opts.maxVolumesPerNode > 0) {
    res.max_volumes_per_node = String(opts.maxVolumesPerNode);
  }
  if (opts.zone) res.accessible_topology = { segments: { [TOPOLOGY_ZONE_KEY]: opts.zone } };
  return res;
}
