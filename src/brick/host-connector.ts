import { readFile } from 'node:fs/promises';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/**
 * Facts about this host that Cinder needs in the connector of an attachment (architecture §3): the
 * iSCSI initiator name and the storage IP. Nothing here touches the network.
 */

/** `InitiatorName=iqn.1993-08.org.debian:01:abcdef` → the IQN; comments and blanks ignored. */
export function parseInitiatorName(text: string): string | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^InitiatorName\s*=\s*(\S+)$/.exec(line);
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** The initiator IQN, or undefined when open-iscsi is not configured on this host. */
export async function readInitiatorName(path = '/etc/iscsi/initiatorname.iscsi'): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES') return undefined;
    throw err;
  }
  return parseInitiatorName(text);
}

/**
 * The interface of the IPv4 default route from /proc/net/route (destination 00000000 and
 * mask 00000000, flag RTF_UP), the lowest metric winning.
 */
export function parseDefaultRouteInterface(procNetRoute: string): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of procNetRoute.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [iface, dest, , flags, , , metric, mask] = f;
    if (!iface || dest !== '00000000' || mask !== '00000000') continue;
    if ((Number.parseInt(flags ?? '0', 16) & 0x1) === 0) continue;
    const m = Number.parseInt(metric ?? '0', 10);
    if (!best || m < best.metric) best = { iface, metric: m };
  }
  return best?.iface;
}

/** The first non-internal IPv4 address of `iface`. */
export function ipv4Of(iface: string, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  return interfaces[iface]?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

export async function defaultRouteIpv4(
  options: { routePath?: string; interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]> } = {},
): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(options.routePath ?? '/proc/net/route', 'utf8');
  } catch {
    return undefined;
  }
  const iface = parseDefaultRouteInterface(text);
  if (!iface) return undefined;
  return ipv4Of(iface, options.interfaces ?? networkInterfaces());
}
