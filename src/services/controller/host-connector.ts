import type { HostConnector } from '../../cinder/types.js';
import { failedPrecondition } from '../../util/errors.js';
import type { ResolvedNode } from '../node-registry/resolve.js';

/**
 * The os-brick-style connector Cinder needs to export a volume to a node (architecture §3), from the
 * facts the node published (or, for a 0.1.0 node id, carried inline): on bare metal there is no
 * Nova to ask. `do_local_attach: false` because the node, not Cinder's host, attaches; no
 * initiator key when the node has none (RBD- or local-only nodes) rather than `initiator: null`,
 * which LIO and SANs cannot ACL. `multipath` is what the node said: a node without multipathd
 * gets one path instead of paths it cannot group.
 */
export function hostConnector(node: ResolvedNode): HostConnector {
  const f = node.facts;
  if (!f.ip) throw failedPrecondition(`node ${node.nodeName} reports no storage IP (no IPv4 default route); set --node-ip on its node plugin`);
  return {
    ...(f.initiator ? { initiator: f.initiator } : {}),
    ip: f.ip,
    host: f.host,
    multipath: f.multipath,
    platform: f.platform,
    os_type: f.osType,
    do_local_attach: false,
  };
}
