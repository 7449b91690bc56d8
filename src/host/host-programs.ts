import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError } from '../util/errors.js';

/**
 * The host programs the driver runs, and the Debian (bookworm) package that ships each. One
 * table for three readers: the error a node answers when a program is missing, the start-up
 * line that says what this node can serve, and the test that checks the runtime image installs
 * every package (test/deploy/dockerfile.test.ts). Add a line when the code starts running a
 * new program.
 */
export const PACKAGE_OF: Readonly<Record<string, string>> = {
  'mkfs.ext2': 'e2fsprogs',
  'mkfs.ext3': 'e2fsprogs',
  'mkfs.ext4': 'e2fsprogs',
  e2fsck: 'e2fsprogs',
  resize2fs: 'e2fsprogs',
  tune2fs: 'e2fsprogs',
  dumpe2fs: 'e2fsprogs',
  'mkfs.xfs': 'xfsprogs',
  xfs_growfs: 'xfsprogs',
  xfs_repair: 'xfsprogs',
  xfs_admin: 'xfsprogs',
  'mkfs.btrfs': 'btrfs-progs',
  btrfs: 'btrfs-progs',
  blkid: 'util-linux',
  blockdev: 'util-linux',
  lsblk: 'util-linux',
  nsenter: 'util-linux',
  wipefs: 'util-linux',
  findmnt: 'util-linux',
  fsck: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  losetup: 'mount',
  chroot: 'coreutils',
  sync: 'coreutils',
  iscsiadm: 'open-iscsi',
  'iscsi-inq': 'libiscsi-bin',
  multipath: 'multipath-tools',
  multipathd: 'multipath-tools',
  rbd: 'ceph-common',
  'rbd-nbd': 'rbd-nbd',
  cryptsetup: 'cryptsetup-bin',
  modprobe: 'kmod',
  udevadm: 'udev',
  dmsetup: 'dmsetup',
  sg_inq: 'sg3-utils',
};

export function packageOf(program: string): string | undefined {
  return PACKAGE_OF[program];
}

/** "mkfs.xfs (Debian package xfsprogs)", or the bare name when no package is known. */
export function describeProgram(program: string): string {
  const pkg = packageOf(program);
  return pkg ? `${program} (Debian package ${pkg})` : program;
}

/**
 * A program the driver needs is not on this node. FAILED_PRECONDITION: retrying cannot help
 * until an operator installs the package, and the message says which one.
 */
export class ProgramMissingError extends DriverError {
  constructor(readonly program: string) {
    super('precondition', `${program} is not installed on this node${packageOf(program) ? ` (Debian package ${packageOf(program)})` : ''}`);
    this.name = 'ProgramMissingError';
  }
}

/** Several missing programs at once: one message naming each program and its package. */
export function programsMissing(programs: readonly string[], purpose: string): DriverError {
  const names = programs.map(describeProgram).join(', ');
  return new DriverError('precondition', `${purpose} needs ${names}, not installed on this node`);
}

/** Where host programs are looked up: the root the Exec seam runs them in. */
export interface ProgramLocatorOptions {
  /** The host's root as this process sees it ('/' when programs run in our own root). */
  root?: string;
  /** Directories searched under the root; default the usual sbin and bin directories. */
  searchPath?: readonly string[];
}

const DEFAULT_SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** What the node asks of the host's programs (tests give a table instead of a file system). */
export interface ProgramFinder {
  /** The subset of `programs` that is not installed. */
  missing(programs: readonly string[]): Promise<string[]>;
}

/**
 * Finds host programs without running them (no spawn per check): an executable file of that
 * name in one of the search directories under the host root.
 */
export class ProgramLocator implements ProgramFinder {
  private readonly root: string;
  private readonly searchPath: readonly string[];

  constructor(options: ProgramLocatorOptions = {}) {
    this.root = options.root ?? '/';
    this.searchPath = options.searchPath ?? DEFAULT_SEARCH_PATH;
  }

  async locate(program: string): Promise<string | undefined> {
    if (program.includes('/')) return undefined;
    for (const dir of this.searchPath) {
      const path = join(this.root, dir, program);
      try {
        await access(path, constants.X_OK);
        return join(dir, program);
      } catch {
        // not in this directory
      }
    }
    return undefined;
  }

  /** The subset of `programs` that is not installed. */
  async missing(programs: readonly string[]): Promise<string[]> {
    const found = await Promise.all(programs.map((p) => this.locate(p)));
    return programs.filter((_, i) => found[i] === undefined);
  }
}
