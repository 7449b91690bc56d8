import { mountedDevices, type MountedDevices } from '../../host/device-use.js';
import { errorMessage } from '../../util/errors.js';
import type { IscsiConnection, IscsiTarget } from '../connection-data.js';
import type { OrphanReport } from '../connector.js';
import type { ScsiSysfs } from './scsi-sysfs.js';
import { teardown, type TeardownDeps } from './teardown.js';
import { normalizePortal, type IscsiSession } from './target.js';

/**
 * The start-up sweep: what a crash or a reboot left behind. kubelet unstages only what it still
 * remembers, so a session whose NodeStage died before its stage record was written, or whose
 * volume kubelet forgot, would stay logged in forever. Swept: sessions on this driver's own iface
 * (nothing else made those) whose target no stage record names. Kept, with a warning: a disk, or a
 * device stacked on it, that is mounted or held by anything but its multipath map — in use means
 * not ours to judge. Devices are found through the session in sysfs, never by a remembered name.
 */
export interface OrphanSweepDeps extends TeardownDeps {
  sysfs: ScsiSysfs;
  /** This driver's iface: sessions on any other one are never touched. */
  iface: string;
  /** /proc/self/mountinfo (what is mounted, by major:minor and by device-node bind). */
  mountinfo(): Promise<string>;
  /** Runs fn holding the locks of these paths (no connect or disconnect of them meanwhile). */
  guard<T>(paths: IscsiTarget[], fn: () => Promise<T>): Promise<T>;
}

export async function sweepOrphanSessions(d: OrphanSweepDeps, referenced: ReadonlySet<string>): Promise<OrphanReport> {
  const report: OrphanReport = { removed: [], kept: [] };
  const sessions = await d.sysfs.sessions();
  const ours: IscsiSession[] = [];
  for (const s of sessions) if ((await d.sysfs.ifaceOf(s.sid)) === d.iface) ours.push(s);

  const byTarget = new Map<string, IscsiSession[]>();
  for (const s of ours) {
    if (referenced.has(s.iqn)) continue;
    byTarget.set(s.iqn, [...(byTarget.get(s.iqn) ?? []), s]);
  }
  if (byTarget.size === 0) return report;

  // One read: a failure here must stop the sweep, never read as "nothing is mounted".
  const mounted = mountedDevices(await d.mountinfo());
  for (const [iqn, paths] of byTarget) {
    try {
      const luns = await orphanLuns(d, paths);
      const busy = await inUse(d, luns.disks, mounted);
      if (busy) {
        d.log.warn({ iqn, device: busy }, 'iscsi session without a stage record left alone: its device is in use');
        report.kept.push({ iqn, reason: `${busy} is in use` });
        continue;
      }
      const targets = (lun: number): IscsiTarget[] => paths.map((s) => ({ portal: normalizePortal(s.portal), iqn, lun }));
      // Per LUN, each on every path: teardown flushes, drops the map and disks, and logs a
      // session out once no other disk of it remains.
      for (const lun of luns.numbers.length > 0 ? luns.numbers : [0]) {
        const conn: IscsiConnection = { type: 'iscsi', targets: targets(lun), multipath: paths.length > 1, accessMode: 'rw' };
        await d.guard(conn.targets, () => teardown(d, conn, conn.targets, {}));
      }
      d.log.warn({ iqn, portals: paths.map((s) => s.portal), luns: luns.numbers }, 'iscsi session without a stage record removed (left by a crash or a reboot)');
      report.removed.push(iqn);
    } catch (err) {
      d.log.warn({ iqn, err: errorMessage(err) }, 'iscsi session without a stage record could not be removed');
      report.kept.push({ iqn, reason: errorMessage(err) });
    }
  }
  return report;
}

async function orphanLuns(d: OrphanSweepDeps, paths: IscsiSession[]): Promise<{ numbers: number[]; disks: string[] }> {
  const numbers = new Set<number>();
  const disks: string[] = [];
  for (const s of paths) {
    const host = await d.sysfs.hostOf(s.sid);
    if (host === undefined) continue;
    for (const l of await d.sysfs.luns(host, s.sid)) {
      if (!l.disk || (l.type !== undefined && l.type !== 0)) continue;
      numbers.add(l.hctl.lun);
      disks.push(l.disk);
    }
  }
  return { numbers: [...numbers].sort((a, b) => a - b), disks };
}

/** The first device that is in use: mounted (or bind-mounted as a node), or with a holder that is not a bare map. */
async function inUse(d: OrphanSweepDeps, disks: string[], mounted: MountedDevices): Promise<string | undefined> {
  for (const disk of disks) {
    if (await isMounted(d, disk, mounted)) return disk;
    for (const holder of await d.sysfs.holders(disk)) {
      if (!/^dm-\d+$/.test(holder)) return `${disk} (held by ${holder})`;
      if (await isMounted(d, holder, mounted)) return holder;
      const above = await d.sysfs.holders(holder);
      if (above.length > 0) return `${holder} (held by ${above.join(', ')})`;
    }
  }
  return undefined;
}

async function isMounted(d: OrphanSweepDeps, name: string, m: MountedDevices): Promise<boolean> {
  const dev = await d.sysfs.devNumber(name);
  return (dev !== undefined && m.numbers.has(dev)) || m.nodes.has(name);
}
