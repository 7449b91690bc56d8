import { describe, expect, it } from 'vitest';
import { FakeHostFs } from '../../test/fakes/fake-host-fs.js';
import { ScriptedExec, step } from '../../test/fakes/scripted-exec.js';
import { blockdevSizeBytes, deviceSizeBytes, kernelName, scsiIdFromWwid } from './block-device.js';
import { Losetup, parseLosetupNames } from './losetup.js';

describe('block device helpers', () => {
  it('kernelName accepts /dev/<name> only', () => {
    expect(kernelName('/dev/sdb')).toBe('sdb');
    expect(kernelName('/dev/dm-3')).toBe('dm-3');
    for (const bad of ['/dev/disk/by-path/x', 'sdb', '/dev/../etc', '/tmp/sdb', '/dev/-x']) expect(() => kernelName(bad)).toThrow();
  });

  it('size from sysfs sectors × 512, and from blockdev', async () => {
    const fs = new FakeHostFs().file('/sys/class/block/loop3/size', '204800\n').file('/sys/class/block/bad/size', 'x');
    expect(await deviceSizeBytes(fs, '/dev/loop3')).toBe(100 * 1024 * 1024);
    await expect(deviceSizeBytes(fs, '/dev/bad')).rejects.toThrow(/unexpected size/);
    const exec = new ScriptedExec([step('blockdev', ['--getsize64', '/dev/sdb'], { stdout: '1073741824\n' })]);
    expect(await blockdevSizeBytes(exec, '/dev/sdb')).toBe(2 ** 30);
    exec.assertDone();
  });

  it('the scsi_id form of a sysfs WWID', () => {
    expect(scsiIdFromWwid('naa.6001405ABCDEF')).toBe('36001405abcdef');
    expect(scsiIdFromWwid('eui.0025388b91b0c1d2')).toBe('20025388b91b0c1d2');
    expect(scsiIdFromWwid('t10.ATA     QEMU HARDDISK   QM00001')).toBe('1ATA_QEMU_HARDDISK_QM00001');
    expect(scsiIdFromWwid('something')).toBeUndefined();
  });
});

describe('Losetup', () => {
  it('argv and output parsing', async () => {
    const exec = new ScriptedExec([
      step('losetup', ['--find', '--show', '--direct-io=off', '/v/a.img'], { stdout: '/dev/loop12\n' }),
      step('losetup', ['-j', '/v/a.img', '-O', 'NAME', '-n'], { stdout: '/dev/loop12\n' }),
      step('losetup', ['-c', '/dev/loop12']),
      step('losetup', ['-d', '/dev/loop12']),
      step('losetup', ['--find', '--show', '--direct-io=off', '/v/b.img'], { stdout: 'losetup: something odd\n' }),
    ]);
    const l = new Losetup(exec);
    expect(await l.attach('/v/a.img')).toBe('/dev/loop12');
    expect(await l.find('/v/a.img')).toEqual(['/dev/loop12']);
    await l.setCapacity('/dev/loop12');
    await l.detach('/dev/loop12');
    await expect(l.attach('/v/b.img')).rejects.toThrow(/instead of a loop device/);
    exec.assertDone();
    expect(parseLosetupNames(' /dev/loop1\n\n/dev/loop22 \njunk')).toEqual(['/dev/loop1', '/dev/loop22']);
  });
});
