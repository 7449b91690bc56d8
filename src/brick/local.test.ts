import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedExec, step } from '../../test/fakes/scripted-exec.js';
import { FakeHostFs } from '../../test/fakes/fake-host-fs.js';
import { DriverError } from '../util/errors.js';
import type { LocalConnection } from './connection-data.js';
import { connectorFor, createConnectors } from './connectors.js';
import { LocalConnector } from './local.js';

const FILE = '/var/lib/cinder-metal-csi/volumes/volume-1.img';

const conn = (devicePath: string, accessMode: 'rw' | 'ro' = 'rw'): LocalConnection => ({ type: 'local', devicePath, accessMode });

let exec: ScriptedExec | undefined;
afterEach(() => {
  const e = exec;
  exec = undefined;
  e?.assertDone();
});

function setup() {
  exec = new ScriptedExec();
  const fs = new FakeHostFs();
  return { exec, fs, connector: new LocalConnector({ exec, fs }) };
}

describe('LocalConnector', () => {
  it('uses a block device as it is, without running anything', async () => {
    const t = setup();
    t.fs.block('/dev/vdb');
    t.fs.symlink('/dev/disk/by-id/virtio-vol1', '../../vdb');
    expect(await t.connector.connect(conn('/dev/disk/by-id/virtio-vol1'))).toEqual({ path: '/dev/vdb' });
    expect(await t.connector.findDevice(conn('/dev/vdb'))).toEqual({ path: '/dev/vdb' });
    await t.connector.disconnect(conn('/dev/vdb'), { path: '/dev/vdb' });
    t.fs.file('/sys/class/block/vdb/size', '2097152\n');
    expect(await t.connector.extend(conn('/dev/vdb'), { path: '/dev/vdb' })).toBe(2 ** 30);
    expect(t.exec.calls).toEqual([]);
  });

  it('attaches a regular file with losetup, finds it again, grows and detaches it', async () => {
    const t = setup();
    t.fs.file(FILE);
    t.exec.expect(
      step('losetup', ['-j', FILE, '-O', 'NAME', '-n'], { stdout: '' }),
      step('losetup', ['--find', '--show', '--direct-io=off', FILE], { stdout: '/dev/loop7\n' }),
    );
    expect(await t.connector.connect(conn(FILE))).toEqual({ path: '/dev/loop7' });

    // re-entrant: the second connect finds the loop device instead of attaching again
    t.exec.expect(step('losetup', ['-j', FILE, '-O', 'NAME', '-n'], { stdout: '/dev/loop7\n' }));
    expect(await t.connector.connect(conn(FILE))).toEqual({ path: '/dev/loop7' });

    t.fs.file('/sys/class/block/loop7/size', '2097152\n');
    t.exec.expect(step('losetup', ['-c', '/dev/loop7'], {}, { onCall: () => void t.fs.setSize('loop7', 2 * 2 ** 30) }));
    expect(await t.connector.extend(conn(FILE), { path: '/dev/loop7' })).toBe(2 * 2 ** 30);

    // Each loop device found by its backing file is flushed, then detached.
    t.exec.expect(
      step('losetup', ['-j', FILE, '-O', 'NAME', '-n'], { stdout: '/dev/loop7\n/dev/loop9\n' }),
      step('blockdev', ['--flushbufs', '/dev/loop7']),
      step('losetup', ['-d', '/dev/loop7']),
      step('blockdev', ['--flushbufs', '/dev/loop9']),
      step('losetup', ['-d', '/dev/loop9']),
    );
    await t.connector.disconnect(conn(FILE), { path: '/dev/loop7' });
  });

  it('attaches read-only for a ro volume', async () => {
    const t = setup();
    t.fs.file(FILE);
    t.exec.expect(step('losetup', ['-j', FILE, '-O', 'NAME', '-n']), step('losetup', ['--find', '--show', '--direct-io=off', '--read-only', FILE], { stdout: '/dev/loop1\n' }));
    expect((await t.connector.connect(conn(FILE, 'ro'))).path).toBe('/dev/loop1');
  });

  it('reports a missing path as NOT_FOUND and a relative or dotted one as INVALID_ARGUMENT', async () => {
    const t = setup();
    await expect(t.connector.connect(conn('/nope/x.img'))).rejects.toMatchObject({ kind: 'not-found' });
    for (const p of ['x.img', '/var/lib/../../etc/shadow', '/a//b']) {
      const err = await t.connector.connect(conn(p)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).kind).toBe('invalid');
    }
  });

  it('connectorFor picks the connector of the transport', () => {
    const t = setup();
    const all = createConnectors({ exec: t.exec, fs: t.fs });
    expect(connectorFor(conn(FILE), all)).toBe(all.local);
    expect(connectorFor({ type: 'rbd', pool: 'p', image: 'i', monitors: ['m:1'], user: 'u', clusterName: 'ceph', accessMode: 'rw' }, all)).toBe(all.rbd);
    expect(connectorFor({ type: 'iscsi', targets: [], multipath: false, accessMode: 'rw' }, all)).toBe(all.iscsi);
  });
});
