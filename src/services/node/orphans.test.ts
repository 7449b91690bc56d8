import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Connectors } from '../../brick/connector.js';
import type { IscsiConnection, RbdConnection } from '../../brick/connection-data.js';
import { capturingLogger } from '../../../test/helpers/log-capture.js';
import { listStashes, sweepOrphansAtStart } from './orphans.js';
import { indexStage, unindexStage } from './stage-index.js';
import { STASH_FILE, writeStash, type Stash } from './stash.js';

const CSI = 'plugins/kubernetes.io/csi';
const iscsi = (iqn: string): IscsiConnection => ({ type: 'iscsi', targets: [{ portal: '10.0.0.1:3260', iqn, lun: 1 }], multipath: false, accessMode: 'rw' });
const stash = (volumeId: string, stagingPath: string, accessType: 'mount' | 'block'): Stash => ({
  version: 1,
  volumeId,
  stagingPath,
  accessType,
  ...(accessType === 'mount' ? { fsType: 'ext4' as const, mountFlags: [] } : {}),
  readOnly: false,
  connection: iscsi(`iqn.2010-10.org.openstack:volume-${volumeId}`),
  device: '/dev/sdz',
});

let dir = '';
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function kubelet(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'cmc-orphans-'));
  return dir;
}

describe('listStashes: every stage record where kubelet puts staging paths', () => {
  it('finds mount records (new and old layouts) and block records, and never reads inside a staging mount', async () => {
    const k = await kubelet();
    const mountNew = join(k, CSI, 'cinder.metal.csi.kungze.io', 'abc123', 'globalmount');
    const mountOld = join(k, CSI, 'pv', 'pv-old', 'globalmount');
    const block = join(k, CSI, 'volumeDevices', 'staging', 'pv-blk');
    for (const p of [mountNew, mountOld, block]) await mkdir(p, { recursive: true });
    await writeStash(stash('11111111-1111-4111-8111-111111111111', mountNew, 'mount'));
    await writeStash(stash('22222222-2222-4222-8222-222222222222', mountOld, 'mount'));
    await writeStash(stash('33333333-3333-4333-8333-333333333333', block, 'block'));
    // A workload's file inside the mounted volume is not a record.
    await writeFile(join(mountNew, STASH_FILE), '{"planted":true}');

    const found = (await listStashes(k, join(k, 'state'))).map((s) => s.volumeId).sort();
    expect(found).toEqual(['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333']);
  });

  it('finds a record the state dir\'s index names, wherever its staging path is (csi-sanity puts them anywhere under the kubelet dir)', async () => {
    const k = await kubelet();
    const odd = join(k, 'sanity', 'block', 'staging');
    await mkdir(odd, { recursive: true });
    const file = await writeStash(stash('55555555-5555-4555-8555-555555555555', odd, 'block'));
    expect(await listStashes(k, join(k, 'state'))).toEqual([]);
    await indexStage(join(k, 'state'), '55555555-5555-4555-8555-555555555555', file);
    expect((await listStashes(k, join(k, 'state'))).map((s) => s.volumeId)).toEqual(['55555555-5555-4555-8555-555555555555']);
    await unindexStage(join(k, 'state'), '55555555-5555-4555-8555-555555555555', file);
    expect(await listStashes(k, join(k, 'state'))).toEqual([]);
  });

  it('a corrupt record throws, and the start-up sweep is then skipped with a warning', async () => {
    const k = await kubelet();
    const p = join(k, CSI, 'cinder.metal.csi.kungze.io', 'def456');
    await mkdir(p, { recursive: true });
    await writeFile(join(p, STASH_FILE), '{not json');
    await expect(listStashes(k, join(k, 'state'))).rejects.toThrow(/corrupt/);

    let swept = false;
    const sweep = () => ((swept = true), Promise.resolve({ removed: [], kept: [] }));
    const connectors = { iscsi: { sweepOrphans: sweep }, rbd: { sweepOrphans: sweep } } as unknown as Connectors;
    const logs = capturingLogger('debug');
    await sweepOrphansAtStart(connectors, k, join(k, 'state'), logs.log);
    expect(swept).toBe(false);
    expect(logs.text()).toContain('start-up sweep skipped');
  });

  it('hands each connector the connections of its transport, and goes on when one sweep fails', async () => {
    const k = await kubelet();
    const p = join(k, CSI, 'cinder.metal.csi.kungze.io', 'aaa', 'globalmount');
    await mkdir(p, { recursive: true });
    await writeStash(stash('44444444-4444-4444-8444-444444444444', p, 'mount'));
    const rbdStage = join(k, CSI, 'cinder.metal.csi.kungze.io', 'bbb', 'globalmount');
    await mkdir(rbdStage, { recursive: true });
    const rbd: RbdConnection = { type: 'rbd', pool: 'volumes', image: 'volume-6', monitors: ['10.0.0.1:6789'], user: 'cinder', clusterName: 'ceph', accessMode: 'rw' };
    await writeStash({ ...stash('66666666-6666-4666-8666-666666666666', rbdStage, 'mount'), connection: rbd });
    let given: readonly IscsiConnection[] = [];
    let givenRbd: readonly RbdConnection[] = [];
    const connectors = {
      iscsi: { sweepOrphans: () => Promise.reject(new Error('iscsiadm exploded')) },
      rbd: { sweepOrphans: (c: readonly RbdConnection[]) => ((givenRbd = c), Promise.resolve({ removed: ['volumes/x'], kept: [] })) },
    } as unknown as Connectors;
    const logs0 = capturingLogger('debug');
    await sweepOrphansAtStart(connectors, k, join(k, 'state'), logs0.log);
    expect(givenRbd.map((c) => c.image)).toEqual(['volume-6']);
    expect(logs0.text()).toContain('start-up sweep of iscsi sessions failed');
    expect(logs0.text()).toContain('volumes/x');
    (connectors as unknown as { iscsi: unknown }).iscsi = {
      sweepOrphans: (c: readonly IscsiConnection[]) => ((given = c), Promise.resolve({ removed: ['x'], kept: [] })),
    };
    const logs = capturingLogger('debug');
    await sweepOrphansAtStart(connectors, k, join(k, 'state'), logs.log);
    expect(given.map((c) => c.targets[0]?.iqn)).toEqual(['iqn.2010-10.org.openstack:volume-44444444-4444-4444-8444-444444444444']);
    expect(logs.text()).toContain('start-up sweep done');
  });
});
