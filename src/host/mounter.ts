import { readFile, realpath, stat } from 'node:fs/promises';
import { invalidArgument } from '../util/errors.js';
import type { Exec } from './exec.js';
import { findMount, isReadOnlyMount, parseMountInfo, type MountInfo } from './mountinfo.js';

/**
 * Mount options a request (CSI `mount_flags`, StorageClass `mountOptions`) may ask for. Anything
 * else is refused: options such as `dev`, `suid`, `exec` on a volume, `context=` or
 * `uhelper=`, or a comma-smuggled `bind` would weaken the node.
 */
export const ALLOWED_MOUNT_OPTIONS: readonly string[] = [
  'ro',
  'rw',
  'defaults',
  'noatime',
  'nodiratime',
  'relatime',
  'strictatime',
  'lazytime',
  'nolazytime',
  'nodev',
  'nosuid',
  'noexec',
  'sync',
  'async',
  'dirsync',
  'discard',
  'nodiscard',
  'acl',
  'noacl',
  'user_xattr',
  'nouser_xattr',
  // ext3/ext4
  'nobarrier',
  'journal_checksum',
  'data=ordered',
  'data=writeback',
  'data=journal',
  'errors=remount-ro',
  'errors=continue',
  'usrquota',
  'grpquota',
  'prjquota',
  'quota',
  'noquota',
  // xfs
  'nouuid',
  'inode64',
  'inode32',
  'uquota',
  'gquota',
  'pquota',
  'uqnoenforce',
  'gqnoenforce',
  'pqnoenforce',
  'largeio',
  'nolargeio',
  'wsync',
  // btrfs
  'ssd',
  'nossd',
  'ssd_spread',
  'autodefrag',
  'noautodefrag',
  'space_cache=v2',
  'nospace_cache',
  'compress',
  'compress-force',
  'datasum',
  'nodatasum',
  'datacow',
  'nodatacow',
  'flushoncommit',
  'noflushoncommit',
];

/** Options with a value, checked by pattern. */
export const ALLOWED_MOUNT_OPTION_PATTERNS: readonly RegExp[] = [
  /^commit=\d{1,5}$/,
  /^stripe=\d{1,9}$/,
  /^(compress|compress-force)=(zlib|lzo|zstd)(:\d{1,2})?$/,
  /^(logbufs)=\d{1,2}$/,
  /^(logbsize)=\d{1,6}k?$/,
  /^(allocsize)=\d{1,9}[kmg]?$/,
];

/** Split CSI mount flags (each may itself hold a comma list) and check every option. */
export function validateMountOptions(options: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of options) {
    for (const raw of entry.split(',')) {
      const opt = raw.trim();
      if (!opt) continue;
      if (!ALLOWED_MOUNT_OPTIONS.includes(opt) && !ALLOWED_MOUNT_OPTION_PATTERNS.some((re) => re.test(opt))) {
        throw invalidArgument(`mount option ${JSON.stringify(opt)} is not allowed`);
      }
      if (!out.includes(opt)) out.push(opt);
    }
  }
  return out;
}

const FS_TYPE = /^[a-z0-9]{2,16}$/;

export interface MounterOptions {
  /** Where mounts are read; in nsenter mode with hostPID the app may pass /proc/1/mountinfo. */
  mountinfoPath?: string;
}

/**
 * mount/umount through Exec and mount-table queries from mountinfo. Options are validated here,
 * whatever the caller did before.
 */
export class Mounter {
  private readonly mountinfoPath: string;

  constructor(
    private readonly exec: Exec,
    options: MounterOptions = {},
  ) {
    this.mountinfoPath = options.mountinfoPath ?? '/proc/self/mountinfo';
  }

  /** Mount a block device with a file system (`mount -t TYPE -o OPTS SOURCE TARGET`). */
  async mount(
    source: string,
    target: string,
    opts: { fsType: string; options?: readonly string[]; readOnly?: boolean; signal?: AbortSignal },
  ): Promise<void> {
    if (!FS_TYPE.test(opts.fsType)) throw invalidArgument(`file system type ${JSON.stringify(opts.fsType)} is not valid`);
    const options = validateMountOptions(opts.options ?? []);
    if (opts.readOnly) {
      const i = options.indexOf('rw');
      if (i >= 0) options.splice(i, 1);
      if (!options.includes('ro')) options.push('ro');
    }
    const args = ['-t', opts.fsType];
    if (options.length) args.push('-o', options.join(','));
    args.push('--', source, target);
    await this.exec.run('mount', args, { signal: opts.signal });
  }

  /**
   * Bind-mount `source` on `target`. A read-only bind needs a second step: the kernel ignores
   * `ro` on the first `mount --bind` (`mount -o remount,bind,ro`).
   */
  async bindMount(
    source: string,
    target: string,
    opts: { readOnly?: boolean; options?: readonly string[]; signal?: AbortSignal } = {},
  ): Promise<void> {
    const options = validateMountOptions(opts.options ?? []).filter((o) => o !== 'ro' && o !== 'rw');
    const args = ['--bind'];
    if (options.length) args.push('-o', options.join(','));
    args.push('--', source, target);
    await this.exec.run('mount', args, { signal: opts.signal });
    if (opts.readOnly) await this.remountReadOnly(target, { bind: true, options, signal: opts.signal });
  }

  /** Make an existing mount read-only (`mount -o remount[,bind],ro TARGET`). */
  async remountReadOnly(
    target: string,
    opts: { bind?: boolean; options?: readonly string[]; signal?: AbortSignal } = {},
  ): Promise<void> {
    const extra = validateMountOptions(opts.options ?? []).filter((o) => o !== 'ro' && o !== 'rw');
    const options = ['remount', ...(opts.bind ? ['bind'] : []), 'ro', ...extra];
    await this.exec.run('mount', ['-o', options.join(','), '--', target], { signal: opts.signal });
  }

  /** Unmount `target`; nothing to do when it is not a mount point. */
  async unmount(target: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    if (!(await this.isMountPoint(target))) return false;
    await this.exec.run('umount', ['--', target], { signal: opts.signal });
    return true;
  }

  async mounts(): Promise<MountInfo[]> {
    return parseMountInfo(await readFile(this.mountinfoPath, 'utf8'));
  }

  /** The mount whose mount point is `path` (symlinks resolved), or undefined. */
  async mountInfo(path: string): Promise<MountInfo | undefined> {
    let resolved: string;
    try {
      resolved = await realpath(path);
    } catch {
      return undefined;
    }
    return findMount(await this.mounts(), resolved);
  }

  async isMountPoint(path: string): Promise<boolean> {
    return (await this.mountInfo(path)) !== undefined;
  }

  /** The source (device) of the mount at `path`. */
  async sourceDevice(path: string): Promise<string | undefined> {
    return (await this.mountInfo(path))?.source;
  }

  async isReadOnly(path: string): Promise<boolean | undefined> {
    const m = await this.mountInfo(path);
    return m ? isReadOnlyMount(m) : undefined;
  }

  /**
   * Every mount of a block device: by its device number (covers bind mounts and a source
   * written through another link) or by the source path.
   */
  async mountsOfDevice(device: string): Promise<MountInfo[]> {
    let real = device;
    let rdev: { major: number; minor: number } | undefined;
    try {
      real = await realpath(device);
      const s = await stat(real);
      if (s.isBlockDevice()) rdev = splitDevNumber(s.rdev);
    } catch {
      // the device is gone: match by name only
    }
    return (await this.mounts()).filter(
      (m) =>
        m.source === device ||
        m.source === real ||
        (rdev !== undefined && m.major === rdev.major && m.minor === rdev.minor),
    );
  }
}

/** Linux dev_t → major/minor (glibc's gnu_dev_major/minor, for numbers below 2^53). */
export function splitDevNumber(dev: number): { major: number; minor: number } {
  const hi = Math.floor(dev / 2 ** 32);
  const lo = dev >>> 0;
  const major = ((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0);
  const minor = (lo & 0xff) | (((lo >>> 12) | (hi << 20)) & 0xffffff00);
  return { major: major >>> 0, minor: minor >>> 0 };
}
