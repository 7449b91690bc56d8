import { readFile, realpath, statfs } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import { aborted, DriverError, invalidArgument } from '../util/errors.js';
import { ExecError, type Exec } from './exec.js';
import { findMount, isReadOnlyMount, parseMountInfo } from './mountinfo.js';

/** File systems the driver creates and mounts. */
export const FS_TYPES = ['ext4', 'ext3', 'xfs', 'btrfs'] as const;
export type FsType = (typeof FS_TYPES)[number];
export const DEFAULT_FS_TYPE: FsType = 'ext4';

export function isFsType(v: string): v is FsType {
  return (FS_TYPES as readonly string[]).includes(v);
}

/** '' → the default; anything outside the allow-list → INVALID_ARGUMENT naming it. */
export function validateFsType(v: string | undefined): FsType {
  if (v === undefined || v === '') return DEFAULT_FS_TYPE;
  if (!isFsType(v)) throw invalidArgument(`file system type ${JSON.stringify(v)} is not supported (${FS_TYPES.join(', ')})`);
  return v;
}

/** Mount options the driver always adds for a type (XFS clones share the UUID of their source). */
export function defaultMountOptions(fsType: FsType): string[] {
  return fsType === 'xfs' ? ['nouuid'] : [];
}

export type ProbeResult =
  | { blank: true }
  | {
      blank: false;
      /** TYPE: the file system or other signature (e.g. ext4, xfs, LVM2_member, crypto_LUKS). */
      type?: string;
      /** PTTYPE: a partition table (dos, gpt): never format such a device. */
      ptType?: string;
      uuid?: string;
      label?: string;
      /** Every KEY=VALUE blkid printed. */
      fields: Record<string, string>;
    };

export function parseBlkidExport(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

export interface VolumeStats {
  totalBytes: number;
  usedBytes: number;
  availableBytes: number;
  totalInodes: number;
  usedInodes: number;
  freeInodes: number;
}

export interface FormatOptions {
  /** File system label; letters, digits, _ and - only (ext: 16 chars, xfs: 12). */
  label?: string;
  signal?: AbortSignal;
  /** mkfs on a large device can take a while; default 10 minutes. */
  timeoutMs?: number;
}

const LABEL = /^[A-Za-z0-9_-]{1,12}$/;

/**
 * XFS features that kernels older than 5.10 cannot mount, on by default since xfsprogs 5.15:
 * a volume made on one node must mount on every node it may move to (Ubuntu 20.04's 5.4, RHEL 8's
 * 4.18), so they are turned off whenever the mkfs.xfs in use knows them (5.10 and later). The
 * cost: XFS timestamps end in 2038 (as on those kernels anyway), and no inode-btree counters.
 */
export const XFS_OLD_KERNEL_SAFE = ['-m', 'bigtime=0,inobtcount=0'];

/** "mkfs.xfs version 6.1.0" → true when that mkfs.xfs knows bigtime and inobtcount (≥ 5.10). */
export function xfsprogsKnowsBigtime(versionOutput: string): boolean {
  const m = /version (\d+)\.(\d+)/.exec(versionOutput);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 5 || (major === 5 && minor >= 10);
}

/** The argv of mkfs for each type: fast (lazy init, no discard of the whole device). */
export function mkfsArgv(device: string, fsType: FsType, label?: string, features: readonly string[] = []): { command: string; args: string[] } {
  if (label !== undefined && !LABEL.test(label)) throw invalidArgument(`file system label ${JSON.stringify(label)} is not valid`);
  const l = label ? ['-L', label] : [];
  switch (fsType) {
    case 'ext4':
    case 'ext3':
      // -F: a whole disk, no prompt; -m0: no reserved blocks on a data volume; lazy init and no
      // discard make mkfs take seconds on large thin volumes.
      return {
        command: `mkfs.${fsType}`,
        args: ['-F', '-m0', '-E', 'nodiscard,lazy_itable_init=1,lazy_journal_init=1', ...l, device],
      };
    case 'xfs':
      // -K: no discard. No -f: mkfs.xfs refuses a device that has a signature (a second guard).
      return { command: 'mkfs.xfs', args: ['-K', ...features, ...l, device] };
    case 'btrfs':
      // -K: no discard. No -f, for the same reason.
      return { command: 'mkfs.btrfs', args: ['-K', ...l, device] };
  }
}

/** A full check of a multi-terabyte volume can take hours; it is never killed by an RPC deadline. */
const FSCK_TIMEOUT_MS = 24 * 3600_000;

/** The promise's result, or the error of `onAbort` as soon as the signal fires (the work goes on). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => Error): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(err);
      },
    );
  });
}

/** blkid, mkfs, fsck, resize and statfs behind Exec. */
export class Filesystem {
  private xfsFeatures: Promise<string[]> | undefined;
  /** e2fsck runs in progress, by device: a retried stage joins its predecessor's run. */
  private readonly checks = new Map<string, { started: number; done: Promise<'clean' | 'repaired'> }>();

  constructor(private readonly exec: Exec) {}

  /** Asked once per process: which mkfs.xfs runs does not change while it lives. */
  private kernelSafeXfs(signal?: AbortSignal): Promise<string[]> {
    this.xfsFeatures ??= this.exec
      .run('mkfs.xfs', ['-V'], { signal, timeoutMs: 30_000 })
      .then((r) => (xfsprogsKnowsBigtime(r.stdout) ? [...XFS_OLD_KERNEL_SAFE] : []))
      .catch((err: unknown) => {
        this.xfsFeatures = undefined;
        throw err;
      });
    return this.xfsFeatures;
  }

  /**
   * `blkid -p` reads the device itself (no cache). Exit 2 = no signature found = blank. Exit 0 =
   * something is there (a file system, a partition table, RAID or LVM metadata): never format.
   * Any other exit code (8 = ambivalent, 4 = usage/IO) throws: the caller must not format.
   */
  async probe(device: string, opts: { signal?: AbortSignal } = {}): Promise<ProbeResult> {
    const r = await this.exec.run('blkid', ['-p', '-o', 'export', '--', device], {
      okExitCodes: [2],
      signal: opts.signal,
    });
    if (r.exitCode === 2) return { blank: true };
    const fields = parseBlkidExport(r.stdout);
    return {
      blank: false,
      ...(fields.TYPE ? { type: fields.TYPE } : {}),
      ...(fields.PTTYPE ? { ptType: fields.PTTYPE } : {}),
      ...(fields.UUID ? { uuid: fields.UUID } : {}),
      ...(fields.LABEL ? { label: fields.LABEL } : {}),
      fields,
    };
  }

  /**
   * Create a file system. Refuses unless `probe` says blank right now: callers cannot format a
   * device with data by mistake, even with a stale probe.
   */
  async format(device: string, fsType: FsType, opts: FormatOptions = {}): Promise<void> {
    if (!isFsType(fsType)) throw invalidArgument(`file system type ${JSON.stringify(fsType)} is not supported`);
    const probe = await this.probe(device, opts);
    if (!probe.blank) {
      const what = probe.ptType ? `a ${probe.ptType} partition table` : `${probe.type ?? 'an unknown signature'}`;
      throw new FormatRefusedError(device, what);
    }
    const features = fsType === 'xfs' ? await this.kernelSafeXfs(opts.signal) : [];
    const { command, args } = mkfsArgv(device, fsType, opts.label, features);
    await this.exec.run(command, args, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 600_000 });
  }

  /**
   * A consistency check before mounting: ext2/3/4 in preen mode (`e2fsck -p`), which returns at
   * once on a clean file system and repairs only what is safe to repair. XFS and btrfs have no
   * cheap equivalent (mounting replays the log), so they are skipped.
   * Exit 1 = errors fixed (fine); 2 = fixed, reboot advised (fine for an unmounted volume);
   * 4 and above throw.
   *
   * A full check of a large volume can take longer than kubelet's deadline. Killing it then
   * would restart it from zero on every retry, so the volume would never mount: e2fsck runs on
   * its own, outside the RPC. A caller whose deadline passes gets ABORTED and the check goes on;
   * the retry joins the same run. Every minute the log says it is still running.
   */
  async check(device: string, fsType: FsType, opts: { signal?: AbortSignal; log?: Logger } = {}): Promise<'clean' | 'repaired' | 'skipped'> {
    if (fsType !== 'ext4' && fsType !== 'ext3') return 'skipped';
    let run = this.checks.get(device);
    if (!run) {
      const started = Date.now();
      const ticker = setInterval(() => opts.log?.info({ device, runningSeconds: Math.round((Date.now() - started) / 1000) }, 'e2fsck still running'), 60_000);
      ticker.unref();
      run = {
        started,
        done: this.exec
          .run('e2fsck', ['-p', '--', device], { okExitCodes: [1, 2], timeoutMs: FSCK_TIMEOUT_MS })
          .then((r) => (r.exitCode === 0 ? ('clean' as const) : ('repaired' as const)))
          .finally(() => {
            clearInterval(ticker);
            this.checks.delete(device);
          }),
      };
      this.checks.set(device, run);
    }
    const { done, started } = run;
    return untilAborted(done, opts.signal, () =>
      aborted(`e2fsck of ${device} is still running (for ${Math.round((Date.now() - started) / 1000)} s); it goes on, and the next attempt waits for it`),
    );
  }

  /** Whether an e2fsck started by check() still runs on this device. */
  checking(device: string): boolean {
    return this.checks.has(device);
  }

  /**
   * Bytes an unmounted ext file system spans (`dumpe2fs -h`: block count × block size), so a
   * stage can tell that its device grew while it was not staged (a restore or clone into a larger
   * volume, an expansion while unstaged). Undefined when dumpe2fs says nothing usable.
   */
  async extSizeBytes(device: string, opts: { signal?: AbortSignal } = {}): Promise<number | undefined> {
    const r = await this.exec.run('dumpe2fs', ['-h', '--', device], { signal: opts.signal, timeoutMs: 60_000 });
    const count = /^Block count:\s+(\d+)$/m.exec(r.stdout)?.[1];
    const size = /^Block size:\s+(\d+)$/m.exec(r.stdout)?.[1];
    return count && size ? Number(count) * Number(size) : undefined;
  }

  /**
   * Grow an unmounted ext file system to its device: a forced check first (resize2fs refuses a
   * file system not checked since its last mount), then resize2fs. Offline, so it needs no
   * CAP_SYS_RESOURCE.
   */
  async growExtOffline(device: string, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<void> {
    const o = { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 600_000 };
    await this.exec.run('e2fsck', ['-f', '-p', '--', device], { ...o, okExitCodes: [1, 2] });
    await this.exec.run('resize2fs', ['--', device], o);
  }

  /** Grow the file system to the size of its device (online for all three). */
  async resize(
    device: string,
    mountPath: string,
    fsType: FsType,
    opts: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<void> {
    const o = { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 600_000 };
    switch (fsType) {
      case 'ext4':
      case 'ext3':
        try {
          await this.exec.run('resize2fs', [device], o);
        } catch (err) {
          // The online-resize ioctl needs CAP_SYS_RESOURCE; say so instead of "Permission denied".
          if (err instanceof ExecError && /Permission denied to resize/i.test(err.stderr)) {
            throw new DriverError(
              'precondition',
              `${err.message} (online ext4 resize needs CAP_SYS_RESOURCE: run the node plugin privileged)`,
              { cause: err },
            );
          }
          throw err;
        }
        return;
      case 'xfs':
        await this.exec.run('xfs_growfs', ['-d', mountPath], o);
        return;
      case 'btrfs':
        await this.exec.run('btrfs', ['filesystem', 'resize', 'max', mountPath], o);
        return;
    }
  }

  /** Capacity and inode counts of the file system mounted at `path` (statfs). */
  async stats(path: string): Promise<VolumeStats> {
    return statsOf(path);
  }

  /** Whether the mount at `mountPath` is read-only; undefined when nothing is mounted there. */
  async isReadOnly(mountPath: string, mountinfoPath = '/proc/self/mountinfo'): Promise<boolean | undefined> {
    const m = findMount(parseMountInfo(await readFile(mountinfoPath, 'utf8')), await realpath(mountPath));
    return m ? isReadOnlyMount(m) : undefined;
  }
}

export async function statsOf(path: string): Promise<VolumeStats> {
  const s = await statfs(path);
  const bsize = s.bsize;
  const totalBytes = s.blocks * bsize;
  const availableBytes = s.bavail * bsize;
  const usedBytes = Math.max(0, (s.blocks - s.bfree) * bsize);
  return {
    totalBytes,
    usedBytes,
    availableBytes,
    totalInodes: s.files,
    freeInodes: s.ffree,
    usedInodes: Math.max(0, s.files - s.ffree),
  };
}

/** format() found a signature: the device is not blank and will not be formatted. */
export class FormatRefusedError extends DriverError {
  constructor(
    readonly device: string,
    readonly found: string,
  ) {
    super('precondition', `refusing to format ${device}: it holds ${found}`);
    this.name = 'FormatRefusedError';
  }
}
