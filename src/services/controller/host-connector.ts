import type { HostConnector } from '../../cinder/types.js';
import type { NodeIdentity } from '../node-id.js';

/**
 * The os-brick-style connector Cinder needs to export a volume to a node (design §3), built
 * from the node id alone: on bare metal there is no Nova to ask. `do_local_attach: false`
 * because the node, not Cinder's host, attaches; no initiator key when the node has none (RBD-
 * or local-only nodes) rather than `initiator: null`, which LIO and SANs cannot ACL.
 */
export function hostConnector(node: NodeIdentity): HostConnector {
  return {
    ...(node.iqn ? { initiator: node.iqn } : {}),
    ip: node.ip,
    host: node.nodeName,
    multipath: true,
    platform: 'x86_64',
    os_type: 'linux2',
    do_local_attach: false,
  };
}
