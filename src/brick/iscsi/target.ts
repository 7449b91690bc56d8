import { invalidArgument } from '../../util/errors.js';
import type { AddressingMode, IscsiTarget } from '../connection-data.js';

/**
 * Names and numbers of the iSCSI world, validated before they reach iscsiadm's argv or a sysfs
 * path: portals, target names, LUNs (with the array's addressing mode), session lines.
 */

/** One line of `iscsiadm -m session`. */
export interface IscsiSession {
  transport: string;
  sid: number;
  /** ip:port as iscsiadm prints it (IPv6 in brackets). */
  portal: string;
  tpgt: number;
  iqn: string;
}


/** One line of sendtargets discovery: `10.0.0.2:3260,1 iqn.2010-10.org.openstack:volume-…`. */
export interface DiscoveredTarget {
  portal: string;
  tpgt: number;
  iqn: string;
}

export function parseSendTargets(stdout: string): DiscoveredTarget[] {
  const out: DiscoveredTarget[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+?),(-?\d+)\s+(\S+)$/.exec(line.trim());
    if (!m || !m[1] || !m[2] || !m[3]) continue;
    out.push({ portal: m[1], tpgt: Number(m[2]), iqn: m[3] });
  }
  return out;
}

const PORTAL = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?$/;
const IQN = /^(iqn\.\d{4}-\d{2}\.[^\s,]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;

/** `host[:port]` → `host:port` (default 3260), lower case; throws on anything else. */
export function normalizePortal(portal: string): string {
  const m = PORTAL.exec(portal.trim());
  if (!m || !m[1]) throw invalidArgument(`iSCSI portal ${JSON.stringify(portal)} is not host:port`);
  const port = m[2] ? Number(m[2]) : 3260;
  if (port < 1 || port > 65535) throw invalidArgument(`iSCSI portal ${JSON.stringify(portal)} has a bad port`);
  return `${m[1].toLowerCase()}:${port}`;
}

export function validateIqn(iqn: string): string {
  if (!IQN.test(iqn)) throw invalidArgument(`iSCSI target name ${JSON.stringify(iqn)} is not a valid IQN/EUI/NAA name`);
  return iqn;
}

export function validateTarget(t: IscsiTarget): IscsiTarget {
  if (!Number.isSafeInteger(t.lun) || t.lun < 0 || t.lun > 0xffffffff) {
    throw invalidArgument(`iSCSI LUN ${String(t.lun)} is not valid`);
  }
  return { portal: normalizePortal(t.portal), iqn: validateIqn(t.iqn), lun: t.lun };
}

export function samePortal(a: string, b: string): boolean {
  try {
    return normalizePortal(a) === normalizePortal(b);
  } catch {
    return false;
  }
}

export function findSession(sessions: readonly IscsiSession[], t: Pick<IscsiTarget, 'portal' | 'iqn'>): IscsiSession | undefined {
  return sessions.find((s) => s.iqn === t.iqn && samePortal(s.portal, t.portal));
}

export interface Hctl {
  host: number;
  channel: number;
  target: number;
}

/** `target3:0:0` (a child of /sys/class/iscsi_session/sessionN/device) → host 3, channel 0, target 0. */
export function parseTargetDir(name: string): Hctl | undefined {
  const m = /^target(\d+):(\d+):(\d+)$/.exec(name);
  if (!m) return undefined;
  return { host: Number(m[1]), channel: Number(m[2]), target: Number(m[3]) };
}

/**
 * The LUN as the kernel numbers it. Arrays that address LUNs with SAM-3 flat space (or SAM-2
 * flat space from 256 on) report LUN n, but the kernel sees n + 16384 (the flat-space bit, 0x4000
 * in the first byte): scanning or looking for n would find nothing, or another LUN. `SAM` and
 * `transparent` (the default) leave it alone.
 */
export function kernelLun(lun: number, mode: AddressingMode | undefined): number {
  if (mode === 'SAM3-flat' || (mode === 'SAM2' && lun >= 256)) return lun + 16384;
  return lun;
}

export function targetKey(t: Pick<IscsiTarget, 'portal' | 'iqn'>): string {
  return `iscsi:${t.iqn}@${normalizePortal(t.portal)}`;
}
