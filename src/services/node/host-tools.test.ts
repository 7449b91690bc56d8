import { mkdtemp, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ProgramLocator } from '../../host/host-programs.js';
import { DriverError } from '../../util/errors.js';
import { describeHostTools, HostTools } from './host-tools.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A host root holding exactly these executables in /usr/sbin (and one non-executable file). */
async function hostWith(programs: string[]): Promise<ProgramLocator> {
  const root = await mkdtemp(join(tmpdir(), 'cmc-tools-'));
  dirs.push(root);
  await mkdir(join(root, 'usr/sbin'), { recursive: true });
  for (const p of programs) {
    await writeFile(join(root, 'usr/sbin', p), '#!/bin/sh\n');
    await chmod(join(root, 'usr/sbin', p), 0o755);
  }
  if (!programs.includes('mkfs.btrfs')) await writeFile(join(root, 'usr/sbin', 'mkfs.btrfs'), 'not executable', { mode: 0o644 });
  return new ProgramLocator({ root });
}

const BASE = ['blkid', 'blockdev', 'mount', 'umount', 'losetup', 'iscsiadm', 'mkfs.ext4', 'mkfs.ext3', 'e2fsck', 'resize2fs'];

describe('HostTools', () => {
  it('names the missing program and its package before a stage, for the transport and the file system asked for', async () => {
    const tools = new HostTools(await hostWith(BASE));
    await expect(tools.require({ transport: 'iscsi', fsType: 'ext4' })).resolves.toBeUndefined();
    const err = await tools.require({ transport: 'iscsi', fsType: 'xfs' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as Error).message).toBe(
      'iscsi volumes with xfs file systems needs mkfs.xfs (Debian package xfsprogs), xfs_growfs (Debian package xfsprogs), not installed on this node',
    );
    await expect(tools.require({ transport: 'rbd' })).rejects.toThrow('rbd (Debian package ceph-common)');
  });

  it('surveys what the node can serve and says what is missing for the rest, in one line', async () => {
    const report = await new HostTools(await hostWith(BASE)).survey();
    expect(report.transports).toEqual(['iscsi', 'local']);
    expect(report.filesystems).toEqual(['ext4', 'ext3']);
    // mkfs.btrfs exists but is not executable: missing.
    expect([...report.missing.keys()].sort()).toEqual(['btrfs', 'mkfs.btrfs', 'mkfs.xfs', 'rbd', 'xfs_growfs']);
    expect(describeHostTools(report)).toBe(
      'serves iscsi, local volumes with ext4, ext3; missing rbd (Debian package ceph-common) for rbd; ' +
        'mkfs.xfs (Debian package xfsprogs) for xfs; xfs_growfs (Debian package xfsprogs) for xfs; ' +
        'mkfs.btrfs (Debian package btrfs-progs) for btrfs; btrfs (Debian package btrfs-progs) for btrfs',
    );
  });

  it('on a complete host says so', async () => {
    const all = [...BASE, 'rbd', 'mkfs.xfs', 'xfs_growfs', 'mkfs.btrfs', 'btrfs'];
    expect(describeHostTools(await new HostTools(await hostWith(all)).survey())).toBe(
      'serves iscsi, rbd, local volumes with ext4, ext3, xfs, btrfs; every host program is installed',
    );
  });
});
