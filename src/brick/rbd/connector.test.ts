import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScriptedExec, step } from '../../../test/fakes/scripted-exec.js';
import { FakeHostFs } from '../../../test/fakes/fake-host-fs.js';
import { capturingLogger } from '../../../test/helpers/log-capture.js';
import type { ProgramFinder } from '../../host/host-programs.js';
import { DriverError } from '../../util/errors.js';
import type { RbdConnection } from '../connection-data.js';
import { RbdConnector, type RbdConnectorOptions } from './connector.js';
import { parseDeviceList } from './mappings.js';

const KEY = 'AQBzY2VwaC1jc2ktdGVzdC1rZXktZm9yLXJiZA==';
const IMAGE = 'volume-4f1d2c3b-0a9e-4d8c-b7a6-112233445566';
const SPEC = `volumes/${IMAGE}`;
const MONS = '10.1.0.1:6789,10.1.0.2:6789,[fd00::3]:6789';

function conn(over: Partial<RbdConnection> = {}): RbdConnection {
  return {
    type: 'rbd',
    pool: 'volumes',
    image: IMAGE,
    monitors: ['10.1.0.1:6789', '10.1.0.2:6789', '[fd00::3]:6789'],
    user: 'cinder',
    clusterName: 'ceph',
    accessMode: 'rw',
    ...over,
  };
}

let dir: string;
let keyDir: string;
let exec: ScriptedExec | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cmc-rbd-'));
  keyDir = join(dir, 'shm');
  await import('node:fs/promises').then((f) => f.mkdir(keyDir));
});
afterEach(async () => {
  const e = exec;
  exec = undefined;
  const left = await readdir(keyDir);
  await rm(dir, { recursive: true, force: true });
  e?.assertDone();
  expect(left, 'no key file may be left behind').toEqual([]);
});

const programs = (present: string[]): ProgramFinder => ({
  missing: (ps: readonly string[]) => Promise.resolve(ps.filter((p) => !present.includes(p))),
});

function setup(over: Partial<RbdConnectorOptions> = {}) {
  exec = new ScriptedExec();
  const fs = new FakeHostFs();
  fs.dir('/sys/bus/rbd/devices').dir('/sys/block');
  fs.file('/proc/self/mountinfo', '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n');
  const logs = capturingLogger('trace');
  const connector = new RbdConnector({
    exec,
    fs,
    log: logs.log,
    keyDir,
    journalDir: join(dir, 'journal'),
    unmapRetryDelayMs: 1,
    ...over,
  });
  return { exec, fs, logs, connector };
}

/** What the kernel shows for a krbd mapping. */
function mapKrbd(fs: FakeHostFs, id: number, pool: string, name: string, snap = '-'): void {
  const d = `/sys/bus/rbd/devices/${id}`;
  fs.file(`${d}/pool`, `${pool}\n`).file(`${d}/name`, `${name}\n`).file(`${d}/current_snap`, `${snap}\n`).file(`${d}/pool_ns`, '\n');
  fs.file(`/sys/block/rbd${id}/dev`, `251:${id * 16}\n`).dir(`/sys/block/rbd${id}/holders`);
}

/** `rbd device map -t <mapper> <spec> [--read-only] --cluster ceph --id cinder -m <mons> --keyfile <file>`. */
const isMapArgs =
  (mapper: 'krbd' | 'nbd', extra: string[] = [], keyOption = '--keyfile') =>
  (args: readonly string[]): boolean => {
    const head = ['device', 'map', '-t', mapper, SPEC, ...extra, '--cluster', 'ceph', '--id', 'cinder', '-m', MONS, keyOption];
    return head.every((a, i) => args[i] === a) && args.length === head.length + 1 && (args[head.length] ?? '').startsWith(`${keyDir}/`);
  };
const isStatusArgs = (args: readonly string[]): boolean => args[0] === 'status' && args[1] === SPEC && args.includes('json');

describe('parseDeviceList', () => {
  it('reads the array shape and the older object shape', () => {
    const arr = JSON.stringify([{ id: '0', pool: 'volumes', namespace: '', name: IMAGE, snap: '-', device: '/dev/nbd0' }]);
    expect(parseDeviceList(arr, 'nbd')).toEqual([{ mapper: 'nbd', pool: 'volumes', namespace: '', name: IMAGE, snap: '-', device: '/dev/nbd0' }]);
    const obj = JSON.stringify({ 3: { pool: 'volumes', name: IMAGE, snap: '-', device: '/dev/nbd3' } });
    expect(parseDeviceList(obj, 'nbd').map((m) => m.device)).toEqual(['/dev/nbd3']);
    expect(parseDeviceList('', 'nbd')).toEqual([]);
    expect(() => parseDeviceList('"x"', 'nbd')).toThrow();
  });
});

describe('RbdConnector.connect', () => {
  it('maps with the key in a 0600 file (never in argv or a log), records the map, removes the key file', async () => {
    const t = setup();
    let seen: { mode: number; content: string; path: string } | undefined;
    t.exec.expect({
      command: 'rbd',
      args: isMapArgs('krbd'),
      result: { stdout: '/dev/rbd4\n' },
      secrets: [KEY],
      onCall: async (args) => {
        const path = args[args.length - 1] ?? '';
        const s = await stat(path);
        seen = { mode: s.mode & 0o777, content: await readFile(path, 'utf8'), path };
      },
    });
    const dev = await t.connector.connect(conn(), { secretKey: KEY });
    expect(dev).toEqual({ path: '/dev/rbd4', mapper: 'krbd' });
    expect(seen?.mode).toBe(0o600);
    expect(seen?.content.trim()).toBe(KEY);
    await expect(stat(seen?.path ?? '/nonexistent')).rejects.toMatchObject({ code: 'ENOENT' });
    for (const c of t.exec.calls) expect(c.args.join(' ')).not.toContain(KEY);
    expect(t.logs.text()).not.toContain(KEY);
    expect(await readdir(join(dir, 'journal'))).toEqual([`${encodeURIComponent(SPEC)}.json`]);
  });

  it('uses the cluster name Cinder gives (--cluster) and the node keyring when no secret is given', async () => {
    const t = setup({ hostRoot: '/host' });
    t.fs.file('/host/etc/ceph/backup.client.cinder.keyring', '[client.cinder]\n');
    t.exec.expect({
      command: 'rbd',
      args: (a) =>
        a.join(' ') === `device map -t krbd ${SPEC} --cluster backup --id cinder -m ${MONS} --keyring /etc/ceph/backup.client.cinder.keyring`,
      result: { stdout: '/dev/rbd0\n' },
    });
    expect((await t.connector.connect(conn({ clusterName: 'backup' }))).path).toBe('/dev/rbd0');
  });

  it('without a secret or a node keyring: FAILED_PRECONDITION naming both, before any rbd call', async () => {
    const t = setup();
    const err = await t.connector.connect(conn()).catch((e: unknown) => e);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as Error).message).toContain('userKey');
    expect((err as Error).message).toContain('/etc/ceph/ceph.client.cinder.keyring');
    expect(t.exec.calls).toEqual([]);
  });

  it('a single-node writer is refused while another client watches the image; nothing is mapped or recorded', async () => {
    const t = setup();
    t.exec.expect({
      command: 'rbd',
      args: isStatusArgs,
      result: { stdout: '{"watchers":[{"address":"10.0.0.7:0/3313","client":4143,"cookie":94}]}' },
    });
    const err = await t.connector.connect(conn(), { secretKey: KEY, exclusiveWriter: true }).catch((e: unknown) => e);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as Error).message).toContain('10.0.0.7:0/3313');
    expect(await readdir(join(dir, 'journal')).catch(() => [])).toEqual([]);
  });

  it('a single-node writer maps when nobody watches; read-only and multi-node maps do not ask', async () => {
    const t = setup();
    t.exec.expect(
      { command: 'rbd', args: isStatusArgs, result: { stdout: '{"watchers":[]}' } },
      { command: 'rbd', args: isMapArgs('krbd'), result: { stdout: '/dev/rbd1\n' } },
    );
    expect((await t.connector.connect(conn(), { secretKey: KEY, exclusiveWriter: true })).path).toBe('/dev/rbd1');
    t.fs.remove('/sys/block/rbd1');
    t.exec.expect({ command: 'rbd', args: isMapArgs('krbd', ['--read-only']), result: { stdout: '/dev/rbd2\n' } });
    await t.connector.connect(conn({ accessMode: 'ro' }), { secretKey: KEY, exclusiveWriter: true });
  });

  // What the real rbd CLI prints (Ceph 16, kernel 6.1): the reason is only in the kernel log.
  const ENXIO = { exitCode: 6, stderr: 'rbd: sysfs write failed\nrbd: map failed: (6) No such device or address\n' };
  const INFO = JSON.stringify({ name: IMAGE, features: ['layering', 'exclusive-lock', 'object-map', 'fast-diff', 'deep-flatten', 'journaling'] });
  const isInfoArgs = (a: readonly string[]): boolean => a[0] === 'info' && a[1] === SPEC && a.includes('--keyfile');

  it('falls back to rbd-nbd when krbd lacks one of the image features (kernel mask vs rbd info), and says which', async () => {
    const t = setup({ programs: programs(['rbd', 'rbd-nbd']) });
    t.fs.file('/sys/bus/rbd/supported_features', '0x1bf\n'); // 6.1: everything but journaling and later
    t.exec.expect(
      { command: 'rbd', args: isMapArgs('krbd'), result: ENXIO },
      { command: 'rbd', args: isInfoArgs, result: { stdout: INFO } },
      { command: 'rbd', args: isMapArgs('nbd'), result: { stdout: '/dev/nbd0\n' } },
    );
    expect(await t.connector.connect(conn(), { secretKey: KEY })).toEqual({ path: '/dev/nbd0', mapper: 'nbd' });
    expect(t.logs.text()).toContain('rbd-nbd');
    expect(t.logs.text()).toContain('journaling');
  });

  it('an ENXIO with every feature supported is the map error itself, not a fallback', async () => {
    const t = setup({ programs: programs(['rbd', 'rbd-nbd']) });
    t.fs.file('/sys/bus/rbd/supported_features', '0x7ff\n');
    t.exec.expect({ command: 'rbd', args: isMapArgs('krbd'), result: ENXIO }, { command: 'rbd', args: isInfoArgs, result: { stdout: INFO } });
    const err = await t.connector.connect(conn(), { secretKey: KEY }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('No such device or address');
  });

  it('without rbd-nbd, a feature krbd lacks is FAILED_PRECONDITION naming it and the package; the journal entry is dropped', async () => {
    const t = setup({ programs: programs(['rbd']) });
    t.fs.file('/sys/bus/rbd/supported_features', '0x1bf\n');
    t.exec.expect({ command: 'rbd', args: isMapArgs('krbd'), result: ENXIO }, { command: 'rbd', args: isInfoArgs, result: { stdout: INFO } });
    const err = await t.connector.connect(conn(), { secretKey: KEY }).catch((e: unknown) => e);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as Error).message).toContain('journaling');
    expect((err as Error).message).toContain('Debian package rbd-nbd');
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
  });

  it('removes the key file when rbd map fails, and masks the key in the error', async () => {
    const t = setup();
    t.exec.expect({
      command: 'rbd',
      args: isMapArgs('krbd', ['--read-only']),
      result: { exitCode: 1, stderr: `rbd: sysfs write failed\nrbd: map failed: (1) Operation not permitted key=${KEY}\n` },
    });
    const err = await t.connector.connect(conn({ accessMode: 'ro' }), { secretKey: KEY }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('map failed');
    expect((err as Error).message).not.toContain(KEY);
    expect(t.exec.leaks(KEY)).toEqual([]);
  });

  it('passes keyring text with --keyring', async () => {
    const t = setup();
    const keyring = `[client.cinder]\n\tkey = ${KEY}\n`;
    t.exec.expect({
      command: 'rbd',
      args: isMapArgs('krbd', [], '--keyring'),
      result: { stdout: '/dev/rbd0\n' },
      onCall: async (args) => expect(await readFile(args[args.length - 1] ?? '', 'utf8')).toBe(keyring),
    });
    expect((await t.connector.connect(conn(), { secretKey: keyring })).path).toBe('/dev/rbd0');
  });

  it('finds a mapped image in sysfs (same pool and image, not a snapshot) without spawning', async () => {
    const t = setup();
    mapKrbd(t.fs, 0, 'other', IMAGE);
    mapKrbd(t.fs, 1, 'volumes', IMAGE, 'snap-1');
    mapKrbd(t.fs, 2, 'volumes', IMAGE);
    expect(await t.connector.connect(conn(), { secretKey: KEY })).toEqual({ path: '/dev/rbd2', mapper: 'krbd' });
    expect(await t.connector.findDevice(conn({ pool: 'third' }))).toBeUndefined();
    expect(t.exec.calls).toEqual([]);
  });

  it('lists rbd-nbd mappings only when an nbd device is connected', async () => {
    const t = setup({ programs: programs(['rbd', 'rbd-nbd']) });
    t.fs.dir('/sys/block/nbd0').file('/sys/block/nbd3/pid', '4242\n');
    t.exec.expect(
      step('rbd', ['device', 'list', '-t', 'nbd', '--format', 'json'], {
        // As Ceph 16's rbd-nbd prints it (seen on the real-kernel tier): "image", and the pid as id.
        stdout: JSON.stringify([{ id: 436, pool: 'volumes', namespace: '', image: IMAGE, snap: '-', device: '/dev/nbd3', cookie: '' }]),
      }),
    );
    expect(await t.connector.findDevice(conn())).toEqual({ path: '/dev/nbd3', mapper: 'nbd' });
  });

  it('refuses names that could be read as options', async () => {
    const t = setup();
    for (const bad of [
      conn({ pool: '--pool' }),
      conn({ image: 'a b' }),
      conn({ clusterName: '-x' }),
      conn({ monitors: [] }),
      conn({ monitors: ['-m x'] }),
    ]) {
      const err = await t.connector.connect(bad, { secretKey: KEY }).catch((e: unknown) => e);
      expect((err as DriverError).kind).toBe('invalid');
    }
    expect(t.exec.calls).toEqual([]);
  });
});

describe('RbdConnector.disconnect', () => {
  const BUSY = { exitCode: 16, stderr: 'rbd: sysfs write failed\nrbd: unmap failed: (16) Device or resource busy\n' };

  it('unmaps by image spec (never by a remembered kernel name), and does nothing when not mapped', async () => {
    const t = setup();
    mapKrbd(t.fs, 5, 'volumes', IMAGE);
    t.exec.expect(step('rbd', ['device', 'unmap', '-t', 'krbd', SPEC]));
    await t.connector.disconnect(conn(), { path: '/dev/rbd2' });
    expect(t.logs.text()).toContain('mapped on another device than recorded');
    t.fs.remove('/sys/bus/rbd/devices/5');
    await t.connector.disconnect(conn(), undefined);
  });

  it('retries a busy unmap, then succeeds', async () => {
    const t = setup();
    mapKrbd(t.fs, 0, 'volumes', IMAGE);
    t.exec.expect(
      { command: 'rbd', args: ['device', 'unmap', '-t', 'krbd', SPEC], result: BUSY },
      { command: 'rbd', args: ['device', 'unmap', '-t', 'krbd', SPEC], result: BUSY },
      step('rbd', ['device', 'unmap', '-t', 'krbd', SPEC]),
    );
    await t.connector.disconnect(conn(), { path: '/dev/rbd0' });
    expect(t.logs.text()).toContain('unmap retried');
  });

  it('a device busy on every attempt and still mounted: FAILED_PRECONDITION, never forced', async () => {
    const t = setup({ unmapAttempts: 2 });
    mapKrbd(t.fs, 0, 'volumes', IMAGE);
    t.fs.file('/proc/self/mountinfo', '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n90 22 251:0 / /mnt/x rw - ext4 /dev/rbd0 rw\n');
    t.exec.expect(
      { command: 'rbd', args: ['device', 'unmap', '-t', 'krbd', SPEC], result: BUSY },
      { command: 'rbd', args: ['device', 'unmap', '-t', 'krbd', SPEC], result: BUSY },
    );
    const err = await t.connector.disconnect(conn(), { path: '/dev/rbd0' }).catch((e: unknown) => e);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as Error).message).toContain('still mounted');
  });

  it('a device busy on every attempt but not mounted (an open handle) is unmapped with -o force, and reported', async () => {
    const t = setup({ unmapAttempts: 2 });
    mapKrbd(t.fs, 0, 'volumes', IMAGE);
    t.exec.expect(
      { command: 'rbd', args: ['device', 'unmap', '-t', 'krbd', SPEC], result: BUSY },
      { command: 'rbd', args: ['device', 'unmap', '-t', 'krbd', SPEC], result: BUSY },
      step('rbd', ['device', 'unmap', '-t', 'krbd', SPEC, '-o', 'force']),
    );
    await t.connector.disconnect(conn(), { path: '/dev/rbd0' });
    expect(t.logs.text()).toContain('forcing the unmap');
  });
});

describe('RbdConnector.sweepOrphans', () => {
  it('unmaps what this plugin mapped and no stage record names; keeps staged, in-use and foreign mappings', async () => {
    const t = setup();
    const orphan = conn({ image: 'volume-00000000-0000-4000-8000-000000000001' });
    const staged = conn({ image: 'volume-00000000-0000-4000-8000-000000000002' });
    const busy = conn({ image: 'volume-00000000-0000-4000-8000-000000000003' });
    const gone = conn({ image: 'volume-00000000-0000-4000-8000-000000000004' });
    // Journal entries as connect writes them (the maps themselves scripted).
    for (const [c, id] of [[orphan, 0], [staged, 1], [busy, 2], [gone, 9]] as const) {
      t.exec.expect({ command: 'rbd', args: (a) => a[1] === 'map' && a[4] === `volumes/${c.image}`, result: { stdout: `/dev/rbd${id}\n` } });
      await t.connector.connect(c, { secretKey: KEY });
    }
    mapKrbd(t.fs, 0, 'volumes', orphan.image);
    mapKrbd(t.fs, 1, 'volumes', staged.image);
    mapKrbd(t.fs, 2, 'volumes', busy.image);
    mapKrbd(t.fs, 3, 'volumes', 'volume-00000000-0000-4000-8000-0000000000ff'); // not ours: no journal entry
    t.fs.file('/proc/self/mountinfo', '22 1 8:1 / / rw - ext4 /dev/sda1 rw\n91 22 0:5 /rbd2 /var/lib/kubelet/pods/p/vol rw - devtmpfs udev rw\n');
    t.exec.expect(step('rbd', ['device', 'unmap', '-t', 'krbd', `volumes/${orphan.image}`]));
    const report = await t.connector.sweepOrphans([staged]);
    expect(report.removed).toEqual([`volumes/${orphan.image}`]);
    expect(report.kept.map((k) => k.iqn)).toEqual([`volumes/${busy.image}`]);
    const left = (await readdir(join(dir, 'journal'))).map(decodeURIComponent).sort();
    expect(left).toEqual([`volumes/${staged.image}.json`, `volumes/${busy.image}.json`].sort());
  });
});
