import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedExec, step } from '../../test/fakes/scripted-exec.js';
import { DriverError } from '../util/errors.js';
import { ALLOWED_MOUNT_OPTIONS, Mounter, splitDevNumber, validateMountOptions } from './mounter.js';

let exec: ScriptedExec | undefined;
afterEach(() => {
  const e = exec;
  exec = undefined;
  e?.assertDone();
});

describe('mount option allow-list', () => {
  it('accepts listed options and patterns, splitting comma lists and dropping duplicates', () => {
    expect(validateMountOptions(['noatime,nodiratime', 'discard', 'noatime', 'commit=30', 'compress=zstd:3'])).toEqual([
      'noatime',
      'nodiratime',
      'discard',
      'commit=30',
      'compress=zstd:3',
    ]);
    expect(ALLOWED_MOUNT_OPTIONS).toContain('nouuid');
  });

  it.each(['exec,dev', 'suid', 'bind', 'remount', 'context=system_u:object_r:x', 'uhelper=x', 'commit=9999999', 'x-mount.mkdir'])(
    'refuses %s with INVALID_ARGUMENT naming the option',
    (opt) => {
      let err: unknown;
      try {
        validateMountOptions(['noatime', opt]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).kind).toBe('invalid');
      const bad = opt.split(',').find((o) => !ALLOWED_MOUNT_OPTIONS.includes(o)) ?? opt;
      expect((err as Error).message).toContain(JSON.stringify(bad));
    },
  );
});

describe('Mounter argv', () => {
  it('mount with type and options, ro replacing rw', async () => {
    exec = new ScriptedExec([step('mount', ['-t', 'ext4', '-o', 'noatime,ro', '--', '/dev/sdb', '/stage'])]);
    await new Mounter(exec).mount('/dev/sdb', '/stage', { fsType: 'ext4', options: ['rw,noatime'], readOnly: true });
  });

  it('a read-only bind mount is a bind then a remount,bind,ro', async () => {
    exec = new ScriptedExec([
      step('mount', ['--bind', '--', '/stage', '/pod/mount']),
      step('mount', ['-o', 'remount,bind,ro', '--', '/pod/mount']),
    ]);
    await new Mounter(exec).bindMount('/stage', '/pod/mount', { readOnly: true });
  });

  it('refuses a bad option before running mount', async () => {
    exec = new ScriptedExec([]);
    await expect(new Mounter(exec).mount('/dev/sdb', '/x', { fsType: 'ext4', options: ['dev'] })).rejects.toMatchObject({ kind: 'invalid' });
    await expect(new Mounter(exec).mount('/dev/sdb', '/x', { fsType: 'ext4 -o dev' })).rejects.toMatchObject({ kind: 'invalid' });
    expect(exec.calls).toEqual([]);
  });

  it('unmount of a directory that is not a mount point runs nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cmc-mnt-'));
    try {
      exec = new ScriptedExec([]);
      const m = new Mounter(exec);
      expect(await m.isMountPoint(dir)).toBe(false);
      expect(await m.unmount(dir)).toBe(false);
      expect(await m.unmount(join(dir, 'missing'))).toBe(false);
      expect(await m.isMountPoint('/')).toBe(true);
      expect((await m.mountInfo('/'))?.mountPoint).toBe('/');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('splitDevNumber', () => {
  it('splits Linux dev_t like glibc', () => {
    expect(splitDevNumber(0x0704)).toEqual({ major: 7, minor: 4 });
    expect(splitDevNumber(0x0810)).toEqual({ major: 8, minor: 16 });
    // major 259 (NVMe), minor 3 → (259 & 0xfff) << 8 | 3
    expect(splitDevNumber((259 << 8) | 3)).toEqual({ major: 259, minor: 3 });
    // minor 300 → low 8 bits in 0..7, the rest from bit 20
    expect(splitDevNumber((7 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12))).toEqual({ major: 7, minor: 300 });
  });
});
