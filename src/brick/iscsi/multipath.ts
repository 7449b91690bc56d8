import type { Exec } from '../../host/exec.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage, unavailable } from '../../util/errors.js';
import type { ScsiSysfs } from './scsi-sysfs.js';

export interface MultipathOptions {
  exec: Exec;
  sysfs: ScsiSysfs;
  log: Logger;
  /** Pause between attempts to flush a map that is still busy. Default 1 s, doubling. */
  retryDelayMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Whether multipathd answers (os-brick asks `multipathd show status`; when the daemon is not
 * running the client prints an error, with exit code 0 on some versions).
 */
export async function multipathdRunning(exec: Exec, signal?: AbortSignal): Promise<boolean> {
  try {
    const r = await exec.run('multipathd', ['show', 'status'], { signal, timeoutMs: 10_000 });
    return !/error receiving packet|can't connect|could not connect|not running/i.test(r.stdout + r.stderr);
  } catch (err) {
    if (signal?.aborted) throw err;
    return false;
  }
}

/**
 * dm-multipath through multipathd, the os-brick way. multipathd decides itself which paths to
 * group, and with multipath-tools' default `find_multipaths strict` it only groups WWIDs it was
 * told about: so the connector adds the WWID (`multipath -a`) and hints each path
 * (`multipathd add path`). A map is recognised by its dm uuid `mpath-<wwid>`, never by name.
 */
export class Multipath {
  private readonly retryDelayMs: number;

  constructor(private readonly o: MultipathOptions) {
    this.retryDelayMs = o.retryDelayMs ?? 1_000;
  }

  running(signal?: AbortSignal): Promise<boolean> {
    return multipathdRunning(this.o.exec, signal);
  }

  /** Tell multipathd this WWID is multipathed (find_multipaths strict only groups known WWIDs). */
  async addWwid(scsiId: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.o.exec.run('multipath', ['-a', scsiId], { signal, timeoutMs: 30_000 });
      return true;
    } catch (err) {
      if (signal?.aborted) throw err;
      this.o.log.warn({ wwid: scsiId, err: errorMessage(err) }, 'multipath -a failed');
      return false;
    }
  }

  /** Hint multipathd to (re)consider one path, e.g. one it saw before the WWID was added. */
  async addPath(disk: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.o.exec.run('multipathd', ['add', 'path', `/dev/${disk}`], { signal, timeoutMs: 30_000 });
    } catch (err) {
      if (signal?.aborted) throw err;
      // multipathd also answers "fail" for a path its uevent handler added first; whether a map
      // formed is checked (and warned about) by the caller, so this is only a hint.
      this.o.log.debug({ device: disk, err: errorMessage(err) }, 'multipathd add path failed');
    }
  }

  /** Drop one path from multipathd before its SCSI device is deleted. */
  async delPath(disk: string): Promise<void> {
    await this.o.exec.run('multipathd', ['del', 'path', `/dev/${disk}`], { timeoutMs: 30_000 }).catch((err: unknown) => {
      this.o.log.debug({ device: disk, err: errorMessage(err) }, 'multipathd del path failed');
    });
  }

  /** The map over these disks whose dm uuid names this WWID (never another map holding them). */
  async mapOf(disks: readonly string[], scsiId: string | undefined): Promise<string | undefined> {
    for (const disk of disks) {
      for (const dm of await this.o.sysfs.dmHolders(disk)) {
        const uuid = await this.o.sysfs.dmUuid(dm);
        if (!uuid?.startsWith('mpath-')) continue;
        if (scsiId === undefined || uuid === `mpath-${scsiId}`) return dm;
      }
    }
    return undefined;
  }

  /**
   * Remove a map: `multipath -f` (which flushes it) up to three times while it is busy, then
   * `multipathd del map`. Succeeds once the map is gone, whichever step removed it.
   */
  async removeMap(dm: string): Promise<void> {
    const name = (await this.o.sysfs.dmName(dm)) ?? dm;
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.o.exec.run('multipath', ['-f', name], { timeoutMs: 60_000 });
        return;
      } catch (err) {
        last = err;
        if (!(await this.o.sysfs.dmName(dm))) return;
        this.o.log.warn({ map: name, attempt: attempt + 1, err: errorMessage(err) }, 'multipath -f failed; retrying');
        await sleep(this.retryDelayMs * 2 ** attempt);
      }
    }
    await this.o.exec.run('multipathd', ['del', 'map', name], { timeoutMs: 60_000 }).catch((err: unknown) => {
      last = err;
    });
    if (await this.o.sysfs.dmName(dm)) {
      throw unavailable(`the multipath map ${name} could not be removed: ${errorMessage(last)}`, last);
    }
  }

  /** Let the map follow its paths' new size. */
  async resize(dm: string, signal?: AbortSignal): Promise<void> {
    const name = (await this.o.sysfs.dmName(dm)) ?? dm;
    await this.o.exec.run('multipathd', ['resize', 'map', name], { signal, timeoutMs: 60_000 });
  }
}
