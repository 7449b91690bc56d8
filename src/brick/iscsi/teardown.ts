import type { Exec } from '../../host/exec.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage, unavailable } from '../../util/errors.js';
import type { IscsiConnection, IscsiTarget } from '../connection-data.js';
import type { Iscsiadm } from './iscsiadm.js';
import type { Multipath } from './multipath.js';
import type { ScsiSysfs } from './scsi-sysfs.js';
import { findSession, kernelLun, type IscsiSession } from './target.js';

/**
 * Finding a volume's devices by identity, and taking them down (os-brick's
 * `_get_connection_devices` + `_cleanup_connection`): a disk is ours only when it hangs under the
 * session of one of our paths at our LUN — and, when the stage recorded a WWID, when it still has
 * that WWID. Nothing is flushed, deleted or logged out on the strength of a remembered /dev name.
 */
export interface OurDisk {
  target: IscsiTarget;
  sid: number;
  disk: string;
}

export interface ConnectionDevices {
  disks: OurDisk[];
  /** Sessions (by sid) that also carry other volumes' disks, or a disk we refused: never logged out. */
  keep: Set<number>;
  sessions: IscsiSession[];
}

export interface TeardownDeps {
  exec: Exec;
  adm: Iscsiadm;
  sysfs: ScsiSysfs;
  multipath: Multipath;
  log: Logger;
  /** Pause between flush attempts. Default 1 s. */
  retryDelayMs?: number;
}

export async function connectionDevices(
  d: Pick<TeardownDeps, 'adm' | 'sysfs' | 'log'>,
  conn: IscsiConnection,
  paths: readonly IscsiTarget[],
  expectWwn: string | undefined,
): Promise<ConnectionDevices> {
  const sessions = await d.sysfs.sessions();
  const disks: OurDisk[] = [];
  const keep = new Set<number>();
  for (const t of paths) {
    const s = findSession(sessions, t);
    if (!s) continue;
    const host = await d.sysfs.hostOf(s.sid);
    if (host === undefined) continue;
    const lun = kernelLun(t.lun, conn.addressingMode);
    const disk = await d.sysfs.diskOf(host, s.sid, lun);
    if (disk) {
      const id = expectWwn ? await d.sysfs.scsiId(disk) : undefined;
      if (expectWwn && id && squash(id) !== squash(expectWwn)) {
        // The LUN now holds another volume (the array reused it): not ours to touch.
        d.log.error({ iqn: t.iqn, lun: t.lun, device: disk, wwn: id, expected: expectWwn }, 'iscsi LUN holds another volume now; left alone');
        keep.add(s.sid);
      } else {
        disks.push({ target: t, sid: s.sid, disk });
      }
    }
    if ((await d.sysfs.otherDisks(host, s.sid, lun)).length > 0) keep.add(s.sid);
  }
  return { disks, keep, sessions };
}

export interface TeardownOptions {
  /** The WWID the stage recorded; a disk with another one is left alone. */
  expectWwn?: string;
  /** Go on when a live device cannot be flushed (data not written is lost). */
  force?: boolean;
}

/**
 * Flush → remove the multipath map → per disk: drop it from multipathd, flush it when it was
 * used directly, delete it → log out of sessions no other disk needs → delete node records.
 */
export async function teardown(d: TeardownDeps, conn: IscsiConnection, paths: readonly IscsiTarget[], o: TeardownOptions): Promise<void> {
  const found = await connectionDevices(d, conn, paths, o.expectWwn);
  const names = found.disks.map((x) => x.disk);
  const scsiId = o.expectWwn ?? (names[0] ? await d.sysfs.scsiId(names[0]) : undefined);
  const dm = names.length ? await d.multipath.mapOf(names, scsiId) : undefined;
  if (dm) {
    await flush(d, dm, o.force ?? false);
    await d.multipath.removeMap(dm).catch((err: unknown) => {
      if (!o.force) throw err;
      d.log.warn({ map: dm, err: errorMessage(err) }, 'multipath map left behind (forced)');
    });
  }
  const multipathd = names.length > 0 && (dm !== undefined || conn.multipath) && (await d.multipath.running());
  for (const { disk } of found.disks) {
    if (multipathd) await d.multipath.delPath(disk);
    // Behind a map the data went through the map, flushed above; a disk used directly is flushed.
    if (!dm) await flush(d, disk, o.force ?? false);
    await d.sysfs.delete(disk);
  }
  for (const { disk } of found.disks) await waitGone(d, disk);

  for (const t of paths) {
    const s = findSession(found.sessions, t);
    if (s && found.keep.has(s.sid)) {
      d.log.info({ portal: t.portal, iqn: t.iqn }, 'iscsi session kept: other volumes use it');
      continue;
    }
    if (s) await d.adm.logout(t);
    await d.adm.deleteRecord(t);
  }
  d.log.info({ iqn: paths[0]?.iqn, lun: paths[0]?.lun, devices: names, dm }, 'iscsi volume disconnected');
}

/**
 * `blockdev --flushbufs`, three attempts. A disk whose path is dead (after a force detach: state
 * offline or transport-offline) cannot be flushed and would block unstage forever: it is dropped
 * with a warning, its unwritten data is gone anyway.
 */
async function flush(d: TeardownDeps, name: string, force: boolean): Promise<void> {
  if (!name.startsWith('dm-')) {
    const state = await d.sysfs.state(name);
    if (state !== undefined && state !== 'running') {
      d.log.warn({ device: name, state }, 'the device is dead; removing it without a flush');
      return;
    }
  }
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await d.exec.run('blockdev', ['--flushbufs', `/dev/${name}`], { timeoutMs: 60_000 });
      return;
    } catch (err) {
      last = err;
      if (attempt < 2) await new Promise((r) => setTimeout(r, (d.retryDelayMs ?? 1_000) * (attempt + 1)));
    }
  }
  if (force) {
    d.log.warn({ device: name, err: errorMessage(last) }, 'flush failed; removing the device anyway (forced)');
    return;
  }
  throw unavailable(`could not flush /dev/${name}: ${errorMessage(last)}`, last);
}

async function waitGone(d: TeardownDeps, disk: string): Promise<void> {
  const until = Date.now() + 30_000;
  while (await d.sysfs.exists(disk)) {
    if (Date.now() > until) {
      d.log.warn({ device: disk }, 'SCSI device still present 30 s after delete');
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function squash(s: string): string {
  return s.toLowerCase().replace(/-/g, '');
}
