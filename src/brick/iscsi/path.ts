import type { ExecOptions } from '../../host/exec.js';
import { waitFor } from '../../host/wait.js';
import type { Logger } from '../../log/logger.js';
import { unavailable } from '../../util/errors.js';
import type { IscsiConnection, IscsiTarget } from '../connection-data.js';
import type { Iscsiadm } from './iscsiadm.js';
import type { ScsiSysfs } from './scsi-sysfs.js';
import { findSession, kernelLun } from './target.js';

/** One path of a volume, up: its session and the disk of our LUN on it. */
export interface PathDevice {
  target: IscsiTarget;
  sid: number;
  host: number;
  disk: string;
}

export interface PathDeps {
  adm: Iscsiadm;
  sysfs: ScsiSysfs;
  log: Logger;
  pollMs: number;
}

export interface PathBudget {
  signal?: AbortSignal;
  /** Epoch ms by which the path must be up. */
  deadline: number;
  /** Bound for our LUN's disk to appear once logged in. */
  deviceTimeoutMs: number;
  secrets: string[];
}

/** First rescan this long after the scan that did not find the LUN; each later one twice as late. */
const FIRST_RESCAN_MS = 2_000;

/**
 * Brings one path up the os-brick way: the node record, a login unless a session exists, then a
 * scan of exactly our LUN on the session's SCSI host ("- - <lun>" while the kernel has no target
 * for the session yet: without it, the first LUN of a target never appears), and rescans with
 * growing intervals until the disk shows up in sysfs under that session and LUN.
 */
export async function bringUpPath(d: PathDeps, conn: IscsiConnection, t: IscsiTarget, b: PathBudget): Promise<PathDevice> {
  const exec = (): ExecOptions => ({ secrets: b.secrets, signal: b.signal, timeoutMs: Math.max(1_000, b.deadline - Date.now()) });
  await d.adm.ensureRecord(t, conn.auth, exec());
  let session = findSession(await d.sysfs.sessions(), t);
  if (!session) {
    await d.adm.login(t, exec());
    d.log.debug({ portal: t.portal, iqn: t.iqn }, 'iscsi logged in');
    session = findSession(await d.sysfs.sessions(), t);
    if (!session) throw unavailable(`iscsiadm reported a login to ${t.iqn} at ${t.portal}, but no session is listed`);
  }
  const sid = session.sid;
  const wait = { signal: b.signal, pollMs: d.pollMs };
  const remaining = (): number => Math.max(1, b.deadline - Date.now());
  const host = await waitFor(`the SCSI host of iSCSI session ${sid}`, () => d.sysfs.hostOf(sid), {
    ...wait,
    timeoutMs: Math.min(10_000, remaining()),
  });
  const lun = kernelLun(t.lun, conn.addressingMode);
  const present = await d.sysfs.diskOf(host, sid, lun);
  if (present) return { target: t, sid, host, disk: present };

  let interval = FIRST_RESCAN_MS;
  let nextScan = 0;
  let scans = 0;
  const disk = await waitFor(
    `LUN ${t.lun} of ${t.iqn} at ${t.portal} (iSCSI session ${sid}) to appear`,
    async () => {
      const found = await d.sysfs.diskOf(host, sid, lun);
      if (found) return found;
      if (Date.now() >= nextScan) {
        if (scans > 0) d.log.info({ iqn: t.iqn, lun: t.lun, sid, scans }, 'iscsi LUN not there yet; rescanning');
        await d.sysfs.scan(host, await d.sysfs.targetOf(host, sid), lun);
        scans++;
        nextScan = Date.now() + interval;
        interval *= 2;
      }
      return undefined;
    },
    { ...wait, timeoutMs: Math.min(b.deviceTimeoutMs, remaining()) },
  );
  return { target: t, sid, host, disk };
}
