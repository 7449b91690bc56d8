import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IscsiConnection } from '../../brick/connection-data.js';

import { assertStashSlotFree, findStash, readStashAt, removeStash, STASH_FILE, stashPath, writeStash, type Stash } from './stash.js';

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'node-stash-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

const PASSWORD = 'S3cr3t-CHAP-pa55word';
const DISCOVERY_PASSWORD = 'An0ther-d1sc0very-pa55';

function iscsi(): IscsiConnection {
  return {
    type: 'iscsi',
    targets: [{ portal: '10.0.0.1:3260', iqn: 'iqn.2010-10.org.openstack:volume-v1', lun: 1 }],
    multipath: false,
    auth: { method: 'CHAP', username: 'user', password: PASSWORD },
    discoveryAuth: { method: 'CHAP', username: 'disc', password: DISCOVERY_PASSWORD },
    accessMode: 'rw',
  };
}

async function staging(name = 'globalmount'): Promise<string> {
  const dir = join(base, 'pv', name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe('stash', () => {
  it('round-trips a mount stash written 0600 in the parent, without the CHAP passwords', async () => {
    const stagingPath = await staging();
    const conn = iscsi();
    const stash: Stash = {
      version: 1,
      volumeId: 'v1',
      stagingPath,
      accessType: 'mount',
      fsType: 'xfs',
      mountFlags: ['noatime'],
      readOnly: false,
      connection: conn,
      device: '/dev/sdb',
      wwn: 'naa.600140512345',
      attachmentId: 'att-1',
    };
    const path = await writeStash(stash);
    expect(path).toBe(join(base, 'pv', STASH_FILE));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(DISCOVERY_PASSWORD);
    // The caller's object is untouched (the stage still needs the password to log in).
    expect(conn.auth?.password).toBe(PASSWORD);

    const found = await findStash(stagingPath, { stagingMounted: true });
    expect(found?.path).toBe(path);
    const back = found?.stash;
    expect(back).toEqual({
      ...stash,
      connection: { ...conn, auth: { ...conn.auth, password: '' }, discoveryAuth: { ...conn.discoveryAuth, password: '' } },
    });
    // No temporary file left behind.
    expect(await readdir(join(base, 'pv'))).toEqual([STASH_FILE, 'globalmount'].sort());
  });

  it('puts a block stash inside the staging directory (the parent is shared by block volumes)', async () => {
    const stagingPath = await staging('pvc-1');
    const stash: Stash = {
      version: 1,
      volumeId: 'v2',
      stagingPath,
      accessType: 'block',
      readOnly: false,
      connection: { type: 'local', devicePath: '/var/lib/x/v2.img', accessMode: 'rw' },
      device: '/dev/loop9',
    };
    const path = await writeStash(stash);
    expect(path).toBe(join(stagingPath, STASH_FILE));
    expect((await findStash(stagingPath, { stagingMounted: false }))?.stash).toEqual(stash);
    // A mount on the staging path hides (and must not be trusted for) an inner stash.
    expect(await findStash(stagingPath, { stagingMounted: true })).toBeUndefined();
    await removeStash(path);
    expect(await findStash(stagingPath, { stagingMounted: false })).toBeUndefined();
  });

  it('ignores a stash that belongs to another staging path, and refuses to write over it', async () => {
    const a = await staging('a');
    const b = await staging('b');
    await writeStash({
      version: 1,
      volumeId: 'va',
      stagingPath: a,
      accessType: 'mount',
      fsType: 'ext4',
      mountFlags: [],
      readOnly: false,
      connection: { type: 'local', devicePath: '/x/va', accessMode: 'rw' },
      device: '/dev/loop1',
    });
    expect(await findStash(b, { stagingMounted: false })).toBeUndefined();
    await expect(assertStashSlotFree(b)).rejects.toMatchObject({ kind: 'precondition' });
    await expect(assertStashSlotFree(a)).resolves.toBeUndefined();
  });

  it('reports a corrupt stash as INTERNAL naming the file, and a missing one as undefined', async () => {
    const stagingPath = await staging();
    const path = stashPath(stagingPath, 'mount');
    expect(await readStashAt(path)).toBeUndefined();
    await writeFile(path, '{"version":1,"volumeId":"v"}');
    await expect(readStashAt(path)).rejects.toMatchObject({ kind: 'internal', message: expect.stringContaining(path) });
    await writeFile(path, 'garbage');
    await expect(readStashAt(path)).rejects.toMatchObject({ kind: 'internal' });
  });
});
