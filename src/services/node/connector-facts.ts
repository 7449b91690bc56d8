import { machine } from 'node:os';
import { defaultRouteIpv4, readInitiatorName } from '../../brick/host-connector.js';
import { multipathdRunning } from '../../brick/iscsi/multipath.js';
import type { Exec } from '../../host/exec.js';
import type { ConnectorFacts } from '../node-registry/record.js';

/** Whether this node asks Cinder for every path of a volume. */
export type MultipathPolicy = 'auto' | 'on' | 'off';

export interface FactSources {
  nodeName: string;
  exec: Exec;
  multipath: MultipathPolicy;
  /** An explicit storage IP (--node-ip) wins over the default route's address. */
  nodeIp?: string;
  /** Default /etc/iscsi/initiatorname.iscsi; a missing file means "no iSCSI on this node". */
  initiatorFile?: string;
  /** Default os.machine(). */
  platform?: string;
}

/**
 * The facts Cinder needs in an attachment's connector, read fresh from the host: they may
 * change while the node lives (DHCP, a regenerated initiator name, multipathd started), which is
 * why they are not part of the node id. `auto` multipath means "multipathd answers now": a node
 * without it gets a single path from Cinder instead of paths it cannot group.
 */
export async function gatherConnectorFacts(s: FactSources): Promise<ConnectorFacts> {
  const [ip, initiator, multipath] = await Promise.all([
    s.nodeIp ? Promise.resolve(s.nodeIp) : defaultRouteIpv4(),
    readInitiatorName(s.initiatorFile),
    s.multipath === 'auto' ? multipathdRunning(s.exec) : Promise.resolve(s.multipath === 'on'),
  ]);
  return {
    host: s.nodeName,
    ...(ip ? { ip } : {}),
    ...(initiator ? { initiator } : {}),
    multipath,
    platform: s.platform ?? machine(),
    osType: 'linux2',
  };
}
