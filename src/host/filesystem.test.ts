import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedExec, step } from '../../test/fakes/scripted-exec.js';
import { DriverError } from '../util/errors.js';
import { ExecError } from './exec.js';
import { Filesystem, FormatRefusedError, defaultMountOptions, mkfsArgv, parseBlkidExport, statsOf, validateFsType, XFS_OLD_KERNEL_SAFE, xfsprogsKnowsBigtime } from './filesystem.js';

let exec: ScriptedExec | undefined;
afterEach(() => {
  const e = exec;
  exec = undefined;
  e?.assertDone();
});

const BLKID = ['-p', '-o', 'export', '--', '/dev/sdb'];

describe('Filesystem.probe (safe format)', () => {
  it('exit 2 = blank', async () => {
    exec = new ScriptedExec([step('blkid', BLKID, { exitCode: 2 })]);
    expect(await new Filesystem(exec).probe('/dev/sdb')).toEqual({ blank: true });
  });

  it('a file system is reported with its type', async () => {
    exec = new ScriptedExec([step('blkid', BLKID, { stdout: 'DEVNAME=/dev/sdb\nUUID=1fbe61a8\nBLOCK_SIZE=4096\nTYPE=xfs\nUSAGE=filesystem\n' })]);
    expect(await new Filesystem(exec).probe('/dev/sdb')).toMatchObject({ blank: false, type: 'xfs', uuid: '1fbe61a8' });
  });

  it('a partition table (no TYPE) is not blank', async () => {
    exec = new ScriptedExec([step('blkid', BLKID, { stdout: 'DEVNAME=/dev/sdb\nPTUUID=0c8d\nPTTYPE=gpt\n' })]);
    const p = await new Filesystem(exec).probe('/dev/sdb');
    expect(p).toMatchObject({ blank: false, ptType: 'gpt' });
    expect('type' in p && p.type).toBeFalsy();
  });

  it('any other exit code throws (ambivalent result, I/O error): never format', async () => {
    exec = new ScriptedExec([step('blkid', BLKID, { exitCode: 8, stderr: 'ambivalent result' })]);
    await expect(new Filesystem(exec).probe('/dev/sdb')).rejects.toBeInstanceOf(ExecError);
  });
});

describe('Filesystem.format', () => {
  it('formats ext4 only after a blank probe, with fast flags', async () => {
    exec = new ScriptedExec([
      step('blkid', BLKID, { exitCode: 2 }),
      step('mkfs.ext4', ['-F', '-m0', '-E', 'nodiscard,lazy_itable_init=1,lazy_journal_init=1', '/dev/sdb']),
    ]);
    await new Filesystem(exec).format('/dev/sdb', 'ext4');
  });

  it('refuses to format a device that holds something, without running mkfs', async () => {
    for (const stdout of ['TYPE=ext4\n', 'PTTYPE=dos\n', 'TYPE=LVM2_member\n']) {
      exec = new ScriptedExec([step('blkid', BLKID, { stdout })]);
      const err = await new Filesystem(exec).format('/dev/sdb', 'xfs').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FormatRefusedError);
      expect((err as DriverError).kind).toBe('precondition');
      expect(exec.calls.map((c) => c.command)).toEqual(['blkid']);
      exec.assertDone();
    }
    exec = undefined;
  });

  it('mkfs argv per type; xfs and btrfs without -f (a second guard); labels validated', () => {
    expect(mkfsArgv('/dev/x', 'xfs')).toEqual({ command: 'mkfs.xfs', args: ['-K', '/dev/x'] });
    expect(mkfsArgv('/dev/x', 'xfs', undefined, XFS_OLD_KERNEL_SAFE)).toEqual({ command: 'mkfs.xfs', args: ['-K', '-m', 'bigtime=0,inobtcount=0', '/dev/x'] });
    expect(xfsprogsKnowsBigtime('mkfs.xfs version 6.1.0')).toBe(true);
    expect(xfsprogsKnowsBigtime('mkfs.xfs version 5.10.0')).toBe(true);
    expect(xfsprogsKnowsBigtime('mkfs.xfs version 5.9.0')).toBe(false);
    expect(xfsprogsKnowsBigtime('mkfs.xfs version 4.15.1')).toBe(false);
    expect(mkfsArgv('/dev/x', 'btrfs', 'data')).toEqual({ command: 'mkfs.btrfs', args: ['-K', '-L', 'data', '/dev/x'] });
    expect(mkfsArgv('/dev/x', 'ext3').command).toBe('mkfs.ext3');
    expect(() => mkfsArgv('/dev/x', 'ext4', '-O bad')).toThrow(DriverError);
  });
});

describe('Filesystem resize and check', () => {
  it('uses the right tool per type', async () => {
    exec = new ScriptedExec([
      step('resize2fs', ['/dev/sdb']),
      step('xfs_growfs', ['-d', '/stage']),
      step('btrfs', ['filesystem', 'resize', 'max', '/stage']),
      step('e2fsck', ['-p', '--', '/dev/sdb'], { exitCode: 1 }),
    ]);
    const fs = new Filesystem(exec);
    await fs.resize('/dev/sdb', '/stage', 'ext4');
    await fs.resize('/dev/sdb', '/stage', 'xfs');
    await fs.resize('/dev/sdb', '/stage', 'btrfs');
    expect(await fs.check('/dev/sdb', 'ext4')).toBe('repaired');
    expect(await fs.check('/dev/sdb', 'xfs')).toBe('skipped');
  });

  it('an e2fsck outlives the RPC deadline: the caller gets ABORTED, the check goes on, the retry joins it (one e2fsck)', async () => {
    exec = new ScriptedExec([{ ...step('e2fsck', ['-p', '--', '/dev/sdb'], { exitCode: 1 }), delayMs: 300 }]);
    const fs = new Filesystem(exec);
    const first = fs.check('/dev/sdb', 'ext4', { signal: AbortSignal.timeout(50) });
    await expect(first).rejects.toMatchObject({ kind: 'aborted', message: expect.stringMatching(/still running/) });
    expect(fs.checking('/dev/sdb')).toBe(true);
    expect(await fs.check('/dev/sdb', 'ext4', { signal: AbortSignal.timeout(5_000) })).toBe('repaired');
    expect(fs.checking('/dev/sdb')).toBe(false);
  });

  it('e2fsck exit 4 (errors left) fails', async () => {
    exec = new ScriptedExec([step('e2fsck', ['-p', '--', '/dev/sdb'], { exitCode: 4, stderr: 'UNEXPECTED INCONSISTENCY' })]);
    await expect(new Filesystem(exec).check('/dev/sdb', 'ext3')).rejects.toThrow(/UNEXPECTED INCONSISTENCY/);
  });
});

describe('helpers', () => {
  it('fs type allow-list', () => {
    expect(validateFsType(undefined)).toBe('ext4');
    expect(validateFsType('')).toBe('ext4');
    expect(validateFsType('xfs')).toBe('xfs');
    expect(() => validateFsType('ntfs')).toThrow(/"ntfs" is not supported/);
    expect(defaultMountOptions('xfs')).toEqual(['nouuid']);
    expect(defaultMountOptions('ext4')).toEqual([]);
  });

  it('parses blkid export output', () => {
    expect(parseBlkidExport('A=1\nLABEL=a=b\n\njunk\n')).toEqual({ A: '1', LABEL: 'a=b' });
  });

  it('statfs figures are consistent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmc-statfs-'));
    try {
      const s = await statsOf(dir);
      expect(s.totalBytes).toBeGreaterThan(0);
      expect(s.availableBytes).toBeLessThanOrEqual(s.totalBytes);
      expect(s.usedBytes).toBeLessThanOrEqual(s.totalBytes);
      expect(s.usedInodes + s.freeInodes).toBe(s.totalInodes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
