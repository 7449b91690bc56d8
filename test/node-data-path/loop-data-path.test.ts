/**
 * The node data path on real loop devices: local connector (losetup), safe format (blkid, mkfs),
 * mounter (mount, bind, ro remount, umount, mountinfo), stats, online growth, disconnect.
 * Root only: without root every test is skipped with a loud warning saying why.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExecaExec } from '../../src/host/exec-execa.js';
import { NodeHostFs } from '../../src/host/host-fs.js';
import { Filesystem, FormatRefusedError, defaultMountOptions, type FsType } from '../../src/host/filesystem.js';
import { Mounter } from '../../src/host/mounter.js';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { LocalConnector } from '../../src/brick/local.js';
import type { LocalConnection } from '../../src/brick/connection-data.js';

const MiB = 1024 * 1024;
const START_SIZE = 320 * MiB; // mkfs.xfs ≥ 5.19 refuses file systems below 300 MiB
const GROWN_SIZE = 512 * MiB;

function hasProgram(name: string): boolean {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/sbin', '/usr/sbin', '/bin', '/usr/bin'];
  return dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasLoop = existsSync('/dev/loop-control');
const runnable = isRoot && hasLoop && hasProgram('losetup') && hasProgram('mount') && hasProgram('blkid');
if (!runnable) {
  console.warn(
    `\n*** SKIPPING the node data path tests on real loop devices: ${
      !isRoot ? 'not running as root' : !hasLoop ? '/dev/loop-control is missing' : 'losetup/mount/blkid not installed'
    }. CI runs them as root (scripts/install-system-deps.sh installs the tools). ***\n`,
  );
}

const FS_TOOLS: Record<FsType, string[]> = {
  ext4: ['mkfs.ext4', 'resize2fs'],
  ext3: ['mkfs.ext3', 'resize2fs'],
  xfs: ['mkfs.xfs', 'xfs_growfs'],
  btrfs: ['mkfs.btrfs', 'btrfs'],
};

function kernelSupports(fs: FsType): boolean {
  try {
    return readFileSync('/proc/filesystems', 'utf8').split('\n').some((l) => l.trim().split(/\s+/).pop() === fs);
  } catch {
    return false;
  }
}

/** ext4 online resize (EXT4_IOC_RESIZE_FS) needs CAP_SYS_RESOURCE; some CI containers drop it. */
function hasCapSysResource(): boolean {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    const eff = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
    return (eff & (1n << 24n)) !== 0n;
  } catch {
    return false;
  }
}

const exec = new ExecaExec({ defaultTimeoutMs: 120_000 });
const hostFs = new NodeHostFs();
const mounter = new Mounter(exec);
const filesystem = new Filesystem(exec);
const local = new LocalConnector({ exec, fs: hostFs });

let dir: string;
let image: string;

async function mountsUnder(root: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return parseMountInfo(text)
    .map((m) => m.mountPoint)
    .filter((p) => p === root || p.startsWith(`${root}/`));
}

async function loopsOf(file: string): Promise<string[]> {
  const { stdout } = await exec.run('losetup', ['-j', file, '-O', 'NAME', '-n']);
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** Undo whatever a (possibly failed) test left, then prove nothing is left. */
async function cleanUp(): Promise<void> {
  if (!dir) return;
  for (const mp of (await mountsUnder(dir)).reverse()) {
    await exec.run('umount', [mp]).catch(() => exec.run('umount', ['-l', mp]).catch(() => undefined));
  }
  if (image && existsSync(image)) {
    for (const dev of await loopsOf(image)) await exec.run('losetup', ['-d', dev]).catch(() => undefined);
  }
  const leftMounts = await mountsUnder(dir);
  const leftLoops = image && existsSync(image) ? await loopsOf(image) : [];
  await rm(dir, { recursive: true, force: true });
  expect(leftMounts, 'no mount may be left behind').toEqual([]);
  expect(leftLoops, 'no loop device may be left behind').toEqual([]);
}

describe.skipIf(!runnable)('node data path on real loop devices', () => {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cmc-datapath-'));
    image = join(dir, 'volume.img');
    await writeFile(image, '');
    await truncate(image, START_SIZE); // sparse
  });
  afterEach(cleanUp);

  for (const fsType of ['ext4', 'xfs', 'btrfs'] as const) {
    const missing = FS_TOOLS[fsType].filter((p) => !hasProgram(p));
    const noKernel = !kernelSupports(fsType);
    if (runnable && (missing.length || noKernel)) {
      console.warn(
        `\n*** SKIPPING the ${fsType} data path test: ${
          missing.length ? `${missing.join(', ')} not installed (run scripts/install-system-deps.sh)` : `the kernel has no ${fsType}`
        } ***\n`,
      );
    }

    it.skipIf(missing.length > 0 || noKernel)(`${fsType}: attach, safe-format, mount, bind ro, stats, grow online, unmount, detach`, async () => {
      const conn: LocalConnection = { type: 'local', devicePath: image, accessMode: 'rw' };

      // attach, and find it again (re-entrancy)
      expect(await local.findDevice(conn)).toBeUndefined();
      const dev = await local.connect(conn);
      expect(dev.path).toMatch(/^\/dev\/loop\d+$/);
      expect(await local.connect(conn)).toEqual(dev);
      expect(await local.findDevice(conn)).toEqual(dev);
      expect(await loopsOf(image)).toEqual([dev.path]);

      // safe format: blank → format; then formatted → never again
      expect(await filesystem.probe(dev.path)).toEqual({ blank: true });
      await filesystem.format(dev.path, fsType);
      const probed = await filesystem.probe(dev.path);
      expect(probed).toMatchObject({ blank: false, type: fsType });
      await expect(filesystem.format(dev.path, fsType)).rejects.toBeInstanceOf(FormatRefusedError);
      if (fsType === 'ext4') expect(await filesystem.check(dev.path, fsType)).toBe('clean');

      // stage mount
      const stage = join(dir, 'staging path');
      const publish = join(dir, 'pod', 'mount');
      await mkdir(stage, { recursive: true });
      await mkdir(publish, { recursive: true });
      expect(await mounter.isMountPoint(stage)).toBe(false);
      await mounter.mount(dev.path, stage, { fsType, options: ['noatime', ...defaultMountOptions(fsType)] });
      const info = await mounter.mountInfo(stage);
      expect(info).toMatchObject({ mountPoint: stage, fsType, source: dev.path });
      expect(info?.mountOptions).toContain('noatime');
      expect(await mounter.sourceDevice(stage)).toBe(dev.path);
      expect(await filesystem.isReadOnly(stage)).toBe(false);
      await writeFile(join(stage, 'data.txt'), 'hello from the stage');

      // publish: read-only bind mount of the staging path
      await mounter.bindMount(stage, publish, { readOnly: true });
      expect(await mounter.isReadOnly(publish)).toBe(true);
      expect(await filesystem.isReadOnly(publish)).toBe(true);
      expect(await mounter.isReadOnly(stage)).toBe(false);
      expect(await readFile(join(publish, 'data.txt'), 'utf8')).toBe('hello from the stage');
      await expect(writeFile(join(publish, 'nope.txt'), 'x')).rejects.toMatchObject({ code: 'EROFS' });
      expect((await mounter.mountsOfDevice(dev.path)).map((m) => m.mountPoint).sort()).toEqual([publish, stage].sort());

      // stats
      const before = await filesystem.stats(stage);
      expect(before.totalBytes).toBeGreaterThan(200 * MiB);
      expect(before.totalBytes).toBeLessThanOrEqual(START_SIZE);
      expect(before.availableBytes).toBeLessThanOrEqual(before.totalBytes);
      expect(before.usedBytes).toBeGreaterThan(0);
      if (fsType !== 'btrfs') expect(before.totalInodes).toBeGreaterThan(0);

      // grow the backing file, tell the loop device, grow the file system online
      await truncate(image, GROWN_SIZE);
      const newSize = await local.extend(conn, dev);
      expect(newSize).toBe(GROWN_SIZE);
      if (fsType === 'ext4' && !hasCapSysResource()) {
        console.warn(
          '\n*** ext4 ONLINE resize is not possible here: this process lacks CAP_SYS_RESOURCE. ' +
            'Checking the clear error, then growing it offline (unmount, e2fsck -f, resize2fs, mount) instead. ***\n',
        );
        await expect(filesystem.resize(dev.path, stage, fsType)).rejects.toThrow(/CAP_SYS_RESOURCE/);
        await mounter.unmount(publish);
        await mounter.unmount(stage);
        await exec.run('e2fsck', ['-f', '-p', dev.path]);
        await filesystem.resize(dev.path, stage, fsType);
        await mounter.mount(dev.path, stage, { fsType, options: ['noatime'] });
        await mounter.bindMount(stage, publish, { readOnly: true });
      } else {
        await filesystem.resize(dev.path, stage, fsType);
      }
      const after = await filesystem.stats(stage);
      expect(after.totalBytes).toBeGreaterThan(before.totalBytes + 150 * MiB);
      expect((await filesystem.stats(publish)).totalBytes).toBe(after.totalBytes);
      expect(await readFile(join(stage, 'data.txt'), 'utf8')).toBe('hello from the stage');

      // a remount read-only of the stage itself
      await mounter.remountReadOnly(stage);
      expect(await mounter.isReadOnly(stage)).toBe(true);

      // unpublish, unstage, disconnect
      expect(await mounter.unmount(publish)).toBe(true);
      expect(await mounter.isMountPoint(publish)).toBe(false);
      expect(await mounter.unmount(publish)).toBe(false); // idempotent
      expect(await mounter.unmount(stage)).toBe(true);
      expect(await mounter.mountsOfDevice(dev.path)).toEqual([]);
      await local.disconnect(conn, dev);
      expect(await loopsOf(image)).toEqual([]);
      expect(await local.findDevice(conn)).toBeUndefined();
      await local.disconnect(conn, dev); // idempotent
    });
  }

  it('a device with a partition table (and no file system) is never formatted', async () => {
    // An MBR with one Linux partition, written straight into the image: blkid sees PTTYPE=dos.
    const mbr = Buffer.alloc(512);
    const entry = 446;
    mbr[entry + 4] = 0x83; // partition type: Linux
    mbr.writeUInt32LE(2048, entry + 8); // first LBA
    mbr.writeUInt32LE(START_SIZE / 512 - 2048, entry + 12); // sectors
    mbr.writeUInt32LE(0x1234abcd, 440); // disk signature
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    const fh = await open(image, 'r+');
    try {
      await fh.write(mbr, 0, 512, 0);
    } finally {
      await fh.close();
    }
    const conn: LocalConnection = { type: 'local', devicePath: image, accessMode: 'rw' };
    const dev = await local.connect(conn);
    const p = await filesystem.probe(dev.path);
    expect(p).toMatchObject({ blank: false, ptType: 'dos' });
    await expect(filesystem.format(dev.path, 'ext4')).rejects.toBeInstanceOf(FormatRefusedError);
    expect(await filesystem.probe(dev.path)).toMatchObject({ blank: false, ptType: 'dos' });
    await local.disconnect(conn, dev);
  });

  it('a read-only local volume is attached read-only', async () => {
    const conn: LocalConnection = { type: 'local', devicePath: image, accessMode: 'ro' };
    const dev = await local.connect(conn);
    const ro = (await hostFs.readFile(`/sys/class/block/${dev.path.slice(5)}/ro`)).trim();
    expect(ro).toBe('1');
    await local.disconnect(conn, dev);
  });
});
