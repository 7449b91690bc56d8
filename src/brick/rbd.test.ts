import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScriptedExec, step } from '../../test/fakes/scripted-exec.js';
import { FakeHostFs } from '../../test/fakes/fake-host-fs.js';
import { capturingLogger } from '../../test/helpers/log-capture.js';
import { Code, CsiError } from '../util/errors.js';
import type { RbdConnection } from './connection-data.js';
import { RbdConnector, parseShowmapped } from './rbd.js';

const KEY = 'AQBzY2VwaC1jc2ktdGVzdC1rZXktZm9yLXJiZA==';
const IMAGE = 'volume-4f1d2c3b-0a9e-4d8c-b7a6-112233445566';

const NEW_SHAPE = JSON.stringify([
  { id: '0', pool: 'other', namespace: '', name: IMAGE, snap: '-', device: '/dev/rbd0' },
  { id: '1', pool: 'volumes', namespace: '', name: IMAGE, snap: 'snap-1', device: '/dev/rbd1' },
  { id: '2', pool: 'volumes', namespace: '', name: IMAGE, snap: '-', device: '/dev/rbd2' },
]);
const OLD_SHAPE = JSON.stringify({
  '0': { pool: 'other', name: IMAGE, snap: '-', device: '/dev/rbd0' },
  '3': { pool: 'volumes', name: IMAGE, snap: '-', device: '/dev/rbd3' },
});

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

let keyDir: string;
let exec: ScriptedExec | undefined;
beforeEach(async () => {
  keyDir = await mkdtemp(join(tmpdir(), 'cmc-rbd-keys-'));
});
afterEach(async () => {
  const e = exec;
  exec = undefined;
  const left = await readdir(keyDir);
  await rm(keyDir, { recursive: true, force: true });
  e?.assertDone();
  expect(left, 'no key file may be left behind').toEqual([]);
});

function setup() {
  exec = new ScriptedExec();
  const fs = new FakeHostFs();
  const logs = capturingLogger('trace');
  const connector = new RbdConnector({ exec, fs, log: logs.log, keyDir });
  return { exec, fs, logs, connector };
}

const isMapArgs =
  (extra: string[] = []) =>
  (args: readonly string[]): boolean => {
    const head = ['map', `volumes/${IMAGE}`, '--id', 'cinder', '-m', '10.1.0.1:6789,10.1.0.2:6789,[fd00::3]:6789', ...extra];
    return (
      head.every((a, i) => args[i] === a) &&
      args.length === head.length + 2 &&
      args[head.length] === '--keyfile' &&
      (args[head.length + 1] ?? '').startsWith(`${keyDir}/`)
    );
  };

describe('parseShowmapped', () => {
  it('reads the newer array shape and the older object shape', () => {
    expect(parseShowmapped(NEW_SHAPE).map((m) => [m.id, m.pool, m.snap, m.device])).toEqual([
      ['0', 'other', '-', '/dev/rbd0'],
      ['1', 'volumes', 'snap-1', '/dev/rbd1'],
      ['2', 'volumes', '-', '/dev/rbd2'],
    ]);
    expect(parseShowmapped(OLD_SHAPE).map((m) => [m.id, m.pool, m.namespace, m.device])).toEqual([
      ['0', 'other', '', '/dev/rbd0'],
      ['3', 'volumes', '', '/dev/rbd3'],
    ]);
    expect(parseShowmapped('')).toEqual([]);
    expect(parseShowmapped('[]')).toEqual([]);
    expect(() => parseShowmapped('"x"')).toThrow();
  });
});

describe('RbdConnector', () => {
  it('maps with the key in a 0600 file on the key dir (never in argv) and removes it afterwards', async () => {
    const t = setup();
    let seen: { mode: number; content: string; path: string } | undefined;
    t.exec.expect(
      step('rbd', ['showmapped', '--format', 'json'], { stdout: '[]\n' }),
      {
        command: 'rbd',
        args: isMapArgs(),
        result: { stdout: '/dev/rbd4\n' },
        secrets: [KEY],
        onCall: async (args) => {
          const path = args[args.length - 1] ?? '';
          const s = await stat(path);
          seen = { mode: s.mode & 0o777, content: await readFile(path, 'utf8'), path };
        },
      },
    );
    const dev = await t.connector.connect(conn(), { secretKey: KEY });
    expect(dev).toEqual({ path: '/dev/rbd4' });
    expect(seen?.mode).toBe(0o600);
    expect(seen?.content.trim()).toBe(KEY);
    await expect(stat(seen?.path ?? '/nonexistent')).rejects.toMatchObject({ code: 'ENOENT' });
    for (const c of t.exec.calls) expect(c.args.join(' ')).not.toContain(KEY);
    expect(t.logs.text()).not.toContain(KEY);
  });

  it('removes the key file when rbd map fails, and masks the key in the error', async () => {
    const t = setup();
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: '[]' }), {
      command: 'rbd',
      args: isMapArgs(['--read-only']),
      result: { exitCode: 1, stderr: `rbd: sysfs write failed\nrbd: map failed: (1) Operation not permitted key=${KEY}\n` },
    });
    const err = await t.connector.connect(conn({ accessMode: 'ro' }), { secretKey: KEY }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('map failed');
    expect((err as Error).message).not.toContain(KEY);
    expect(t.exec.leaks(KEY)).toEqual([]);
    expect(await readdir(keyDir)).toEqual([]);
  });

  it('passes keyring text with --keyring', async () => {
    const t = setup();
    const keyring = `[client.cinder]\n\tkey = ${KEY}\n`;
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: '{}' }), {
      command: 'rbd',
      args: (a) => a.includes('--keyring') && !a.includes('--keyfile'),
      result: { stdout: '/dev/rbd0\n' },
      onCall: async (args) => expect(await readFile(args[args.length - 1] ?? '', 'utf8')).toBe(keyring),
    });
    expect((await t.connector.connect(conn(), { secretKey: keyring })).path).toBe('/dev/rbd0');
  });

  it('finds an image that is already mapped (matching pool and image, not a snapshot), in both JSON shapes', async () => {
    const t = setup();
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: NEW_SHAPE }));
    expect(await t.connector.connect(conn(), { secretKey: KEY })).toEqual({ path: '/dev/rbd2' });
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: OLD_SHAPE }));
    expect(await t.connector.findDevice(conn())).toEqual({ path: '/dev/rbd3' });
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: OLD_SHAPE }));
    expect(await t.connector.findDevice(conn({ pool: 'third' }))).toBeUndefined();
  });

  it('unmaps the image, and does nothing when it is not mapped', async () => {
    const t = setup();
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: NEW_SHAPE }), step('rbd', ['unmap', '/dev/rbd2']));
    await t.connector.disconnect(conn(), { path: '/dev/rbd2' });
    t.exec.expect(step('rbd', ['showmapped', '--format', 'json'], { stdout: '[]' }));
    await t.connector.disconnect(conn(), undefined);
  });

  it('extend reads the new size from sysfs', async () => {
    const t = setup();
    t.fs.file('/sys/class/block/rbd2/size', `${(5 * 2 ** 30) / 512}\n`);
    expect(await t.connector.extend(conn(), { path: '/dev/rbd2' })).toBe(5 * 2 ** 30);
  });

  it('refuses names that could be read as options', async () => {
    const t = setup();
    for (const bad of [conn({ pool: '--pool' }), conn({ image: 'a b' }), conn({ monitors: [] }), conn({ monitors: ['-m x'] })]) {
      const err = await t.connector.connect(bad, { secretKey: KEY }).catch((e: unknown) => e);
      expect((err as CsiError).code).toBe(Code.INVALID_ARGUMENT);
    }
    expect(t.exec.calls).toEqual([]);
  });
});
