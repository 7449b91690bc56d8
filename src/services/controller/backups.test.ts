import { MemoryRegistry } from '../../../test/fakes/memory-registry.js';
import { describe, expect, it } from 'vitest';
import { FakeCinder, lostReply } from '../../../test/controller/fake-cinder.js';
import { controllerRpcs } from '../../csi/controller.js';
import { silentLogger } from '../../log/logger.js';
import type { RpcContext } from '../../util/context.js';
import { DriverError, type ErrorKind } from '../../util/errors.js';
import { CTX_SOURCE, META_CLUSTER, META_SOURCE_BACKUP } from './constants.js';
import { createControllerOperations } from './index.js';

/**
 * Backups as snapshots (class parameter `type: backup`) over the fake Cinder, through the gRPC
 * edge: what is sent to Cinder, what CSI gets back, and the refusals.
 */
const GiB = 1024 ** 3;
const ctx = (): RpcContext => ({ requestId: 't', signal: new AbortController().signal, deadline: Date.now() + 5000, log: silentLogger() });
const BACKUP = { type: 'backup' };

function setup() {
  const fake = new FakeCinder();
  const ops = createControllerOperations({ cinder: fake, waiter: fake.waiters(), clusterId: 'c1', registry: new MemoryRegistry(), ignoreVolumeAz: false, log: silentLogger() });
  return { fake, rpc: controllerRpcs(ops) };
}

async function volume(fake: FakeCinder, size = 2): Promise<string> {
  return (await fake.createVolume({ name: 'pvc-src', size, metadata: { [META_CLUSTER]: 'c1' } })).id;
}

async function kindOf(p: Promise<unknown>): Promise<ErrorKind | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof DriverError) return e.kind;
    throw e;
  }
}

const snapshotReq = (name: string, source: string, parameters: Record<string, string> = BACKUP) => ({ name, source_volume_id: source, parameters, secrets: {} });
const restoreReq = (name: string, snapshotId: string, bytes = 0) => ({
  name,
  capacity_range: { required_bytes: String(bytes), limit_bytes: '0' },
  volume_capabilities: [{ access_type: 'mount' as const, mount: { fs_type: 'ext4', mount_flags: [], volume_mount_group: '' }, access_mode: { mode: 'SINGLE_NODE_WRITER' as const } }],
  parameters: {},
  secrets: {},
  volume_content_source: { type: 'snapshot' as const, snapshot: { snapshot_id: snapshotId } },
  accessibility_requirements: null,
  mutable_parameters: {},
});

describe('backups as snapshots (fake Cinder)', () => {
  it('CreateSnapshot with type backup takes a full Cinder backup tagged with the cluster, and answers backup:<id> ready', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const res = await rpc.CreateSnapshot(snapshotReq('snap-1', src), ctx());
    const [b] = [...fake.backups.values()];
    expect(b).toMatchObject({ name: 'snap-1', volumeId: src, isIncremental: false, metadata: { [META_CLUSTER]: 'c1' } });
    expect(res.snapshot).toMatchObject({ snapshot_id: `backup:${b?.id}`, source_volume_id: src, size_bytes: String(2 * GiB), ready_to_use: true });
    expect(fake.snapshots.size).toBe(0);
  });

  it('is idempotent by name, and the same name for another volume is ALREADY_EXISTS', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const first = await rpc.CreateSnapshot(snapshotReq('snap-1', src), ctx());
    const again = await rpc.CreateSnapshot(snapshotReq('snap-1', src), ctx());
    expect(again.snapshot?.snapshot_id).toBe(first.snapshot?.snapshot_id);
    expect(fake.backups.size).toBe(1);
    const other = await volume(fake);
    expect(await kindOf(rpc.CreateSnapshot(snapshotReq('snap-1', other), ctx()))).toBe('exists');
  });

  it('a lost POST reply is resolved by the name: one backup', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    fake.before.set('createBackup', () => {
      void fake.createBackup({ volumeId: src, name: 'snap-1', metadata: { [META_CLUSTER]: 'c1' } });
      fake.failNext.set('createBackup', [lostReply('POST', '/backups')]);
    });
    const res = await rpc.CreateSnapshot(snapshotReq('snap-1', src), ctx());
    expect(fake.backups.size).toBe(1);
    expect(res.snapshot?.snapshot_id).toBe(`backup:${[...fake.backups.keys()][0]}`);
  });

  it('incremental: the first backup of a volume is full, the next one incremental; an in-use volume is backed up with force', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const inc = { type: 'backup', incremental: 'true' };
    await rpc.CreateSnapshot(snapshotReq('full', src, inc), ctx());
    fake.volumes.get(src)!.status = 'in-use';
    const calls: unknown[] = [];
    const create = fake.createBackup.bind(fake);
    fake.createBackup = (r) => {
      calls.push(r);
      return create(r);
    };
    await rpc.CreateSnapshot(snapshotReq('next', src, inc), ctx());
    expect(calls).toEqual([expect.objectContaining({ incremental: true, force: true })]);
    expect([...fake.backups.values()].map((b) => [b.name, b.isIncremental])).toEqual([
      ['full', false],
      ['next', true],
    ]);
  });

  it('a volume Cinder cannot back up now is ABORTED (retried), one in error FAILED_PRECONDITION, a missing one NOT_FOUND', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    fake.volumes.get(src)!.status = 'backing-up';
    expect(await kindOf(rpc.CreateSnapshot(snapshotReq('s', src), ctx()))).toBe('aborted');
    fake.volumes.get(src)!.status = 'error_extending';
    expect(await kindOf(rpc.CreateSnapshot(snapshotReq('s', src), ctx()))).toBe('precondition');
    expect(await kindOf(rpc.CreateSnapshot(snapshotReq('s', '0b8c4a8e-53a3-4c8f-9a44-5e6f7d8c9b0a'), ctx()))).toBe('not-found');
    expect(fake.backups.size).toBe(0);
  });

  it('a backup Cinder failed is deleted and the call is INTERNAL', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const create = fake.createBackup.bind(fake);
    fake.createBackup = async (r) => {
      const made = await create(r);
      fake.backups.get(made.id)!.status = 'error';
      return made;
    };
    expect(await kindOf(rpc.CreateSnapshot(snapshotReq('s', src), ctx()))).toBe('internal');
    expect(fake.backups.size).toBe(0);
  });

  it('GetSnapshot, ListSnapshots by id and by source read backups; the full list holds snapshots, then backups', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const snap = await rpc.CreateSnapshot(snapshotReq('plain', src, {}), ctx());
    const backup = await rpc.CreateSnapshot(snapshotReq('copy', src), ctx());
    const id = backup.snapshot?.snapshot_id ?? '';
    expect((await rpc.GetSnapshot({ snapshot_id: id, secrets: {} }, ctx())).snapshot).toMatchObject({ snapshot_id: id, ready_to_use: true });
    const byId = await rpc.ListSnapshots({ snapshot_id: id, source_volume_id: '', max_entries: 0, starting_token: '', secrets: {} }, ctx());
    expect((byId.entries ?? []).map((e) => e.snapshot?.snapshot_id)).toEqual([id]);
    const all = await rpc.ListSnapshots({ snapshot_id: '', source_volume_id: src, max_entries: 0, starting_token: '', secrets: {} }, ctx());
    expect((all.entries ?? []).map((e) => e.snapshot?.snapshot_id)).toEqual([snap.snapshot?.snapshot_id, id]);
    // One entry per page: the snapshot, then (through the phase token) the backup, then the end.
    const ids: string[] = [];
    let token = '';
    for (let i = 0; i < 5; i++) {
      const page = await rpc.ListSnapshots({ snapshot_id: '', source_volume_id: '', max_entries: 1, starting_token: token, secrets: {} }, ctx());
      ids.push(...(page.entries ?? []).map((e) => e.snapshot?.snapshot_id ?? ''));
      token = page.next_token ?? '';
      if (!token) break;
    }
    expect(ids).toEqual([snap.snapshot?.snapshot_id, id]);
    expect(token).toBe('');
  });

  it('DeleteSnapshot deletes the backup and is idempotent; one that incremental backups depend on is FAILED_PRECONDITION', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const inc = { type: 'backup', incremental: 'true' };
    const full = (await rpc.CreateSnapshot(snapshotReq('full', src, inc), ctx())).snapshot?.snapshot_id ?? '';
    const next = (await rpc.CreateSnapshot(snapshotReq('next', src, inc), ctx())).snapshot?.snapshot_id ?? '';
    const refused = await rpc.DeleteSnapshot({ snapshot_id: full, secrets: {} }, ctx()).catch((e: unknown) => e);
    expect(refused).toMatchObject({ kind: 'precondition', message: expect.stringMatching(/later incremental backups depend on/) });
    await rpc.DeleteSnapshot({ snapshot_id: next, secrets: {} }, ctx());
    await rpc.DeleteSnapshot({ snapshot_id: next, secrets: {} }, ctx());
    fake.backups.get(full.slice('backup:'.length))!.hasDependentBackups = false;
    await rpc.DeleteSnapshot({ snapshot_id: full, secrets: {} }, ctx());
    expect(fake.backups.size).toBe(0);
  });

  it('CreateVolume from backup:<id> restores it with backup_id into at least its size, records the source and reports it', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake, 2);
    const id = (await rpc.CreateSnapshot(snapshotReq('copy', src), ctx())).snapshot?.snapshot_id ?? '';
    const backupId = id.slice('backup:'.length);
    const calls: unknown[] = [];
    const create = fake.createVolume.bind(fake);
    fake.createVolume = (r) => {
      calls.push(r);
      return create(r);
    };
    const res = await rpc.CreateVolume(restoreReq('pvc-restored', id, 3 * GiB), ctx());
    expect(calls).toEqual([expect.objectContaining({ backupId, size: 3 })]);
    expect(calls[0]).not.toHaveProperty('snapshotId');
    expect(res.volume).toMatchObject({ capacity_bytes: String(3 * GiB), content_source: { snapshot: { snapshot_id: id } }, volume_context: { [CTX_SOURCE]: 'backup' } });
    expect(fake.volumes.get(res.volume?.volume_id ?? '')?.metadata[META_SOURCE_BACKUP]).toBe(backupId);
    // A retry adopts it; the same name from another source is ALREADY_EXISTS.
    expect((await rpc.CreateVolume(restoreReq('pvc-restored', id, 3 * GiB), ctx())).volume?.volume_id).toBe(res.volume?.volume_id);
    expect(await kindOf(rpc.CreateVolume(restoreReq('pvc-restored', `backup:${src}`), ctx()))).not.toBe('ok');
    // Without a size the volume is the backup's.
    expect((await rpc.CreateVolume(restoreReq('pvc-2', id), ctx())).volume?.capacity_bytes).toBe(String(2 * GiB));
  });

  it('a restore from a missing, unready or unrestorable backup is refused', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const id = (await rpc.CreateSnapshot(snapshotReq('copy', src), ctx())).snapshot?.snapshot_id ?? '';
    expect(await kindOf(rpc.CreateVolume(restoreReq('a', 'backup:0b8c4a8e-53a3-4c8f-9a44-5e6f7d8c9b0a'), ctx()))).toBe('not-found');
    expect(await kindOf(rpc.CreateVolume(restoreReq('a', 'backup:nope'), ctx()))).toBe('not-found');
    fake.backups.get(id.slice('backup:'.length))!.status = 'creating';
    expect(await kindOf(rpc.CreateVolume(restoreReq('a', id), ctx()))).toBe('precondition');
    // Being restored into another volume: its turn comes (ABORTED is retried).
    fake.backups.get(id.slice('backup:'.length))!.status = 'restoring';
    expect(await kindOf(rpc.CreateVolume(restoreReq('a', id), ctx()))).toBe('aborted');
    fake.backups.get(id.slice('backup:'.length))!.status = 'available';
    fake.microversion = { major: 3, minor: 46 };
    const old = await rpc.CreateVolume(restoreReq('a', id), ctx()).catch((e: unknown) => e);
    expect(old).toMatchObject({ kind: 'precondition', message: expect.stringMatching(/3\.47/) });
    expect(fake.volumes.size).toBe(1);
  });

  it('ControllerUnpublish waits (ABORTED) while Cinder backs the volume up: a detach then would leave it in-use with no attachment', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const att = await fake.createAttachment({ volumeId: src, connector: { host: 'node-a', ip: '127.0.0.1', multipath: false, platform: 'x86_64', os_type: 'linux2' }, mode: 'rw' });
    await fake.completeAttachment(att.id);
    fake.volumes.get(src)!.status = 'backing-up';
    expect(await kindOf(rpc.ControllerUnpublishVolume({ volume_id: src, node_id: '', secrets: {} }, ctx()))).toBe('aborted');
    expect(fake.attachments.size).toBe(1);
    fake.volumes.get(src)!.status = 'in-use';
    await rpc.ControllerUnpublishVolume({ volume_id: src, node_id: '', secrets: {} }, ctx());
    expect(fake.attachments.size).toBe(0);
  });

  it('a restore whose metadata Cinder replaced gets its own back; a retry finds it by name and description when the tag is gone', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const id = (await rpc.CreateSnapshot(snapshotReq('copy', src), ctx())).snapshot?.snapshot_id ?? '';
    const backupId = id.slice('backup:'.length);
    const clobbered = { [META_CLUSTER]: 'another-cluster', 'csi.storage.k8s.io/pvc/name': 'someone-else', src_backup_id: backupId };
    // The first call ends while Cinder restores; the backup service then replaces the metadata.
    fake.createStatus = 'creating';
    expect(await kindOf(rpc.CreateVolume(restoreReq('pvc-r', id), ctx()))).toBe('aborted');
    const [restoredId] = [...fake.volumes.values()].filter((v) => v.name === 'pvc-r').map((v) => v.id);
    const vol = fake.volumes.get(restoredId ?? '')!;
    vol.metadata = { ...clobbered };
    vol.status = 'available';
    const res = await rpc.CreateVolume(restoreReq('pvc-r', id), ctx());
    expect(res.volume?.volume_id).toBe(restoredId);
    expect([...fake.volumes.values()].filter((v) => v.name === 'pvc-r')).toHaveLength(1);
    expect(vol.metadata).toEqual({ [META_CLUSTER]: 'c1', [META_SOURCE_BACKUP]: backupId, src_backup_id: backupId });
    expect(res.volume?.content_source?.snapshot?.snapshot_id).toBe(id);
  });

  it('the same name restored with the tag intact but the source record clobbered while creating is not mistaken for another source', async () => {
    const { fake, rpc } = setup();
    const src = await volume(fake);
    const id = (await rpc.CreateSnapshot(snapshotReq('copy', src), ctx())).snapshot?.snapshot_id ?? '';
    fake.createStatus = 'creating';
    expect(await kindOf(rpc.CreateVolume(restoreReq('pvc-r', id), ctx()))).toBe('aborted');
    const vol = [...fake.volumes.values()].find((v) => v.name === 'pvc-r')!;
    // The backed-up volume was this cluster's too: the tag survives, our source record does not.
    vol.metadata = { [META_CLUSTER]: 'c1' };
    expect(await kindOf(rpc.CreateVolume(restoreReq('pvc-r', id), ctx()))).toBe('aborted');
    vol.status = 'available';
    vol.metadata.src_backup_id = id.slice('backup:'.length);
    expect((await rpc.CreateVolume(restoreReq('pvc-r', id), ctx())).volume?.volume_id).toBe(vol.id);
    // Another backup under that name is refused once Cinder says which backup it came from.
    const other = (await rpc.CreateSnapshot(snapshotReq('copy-2', src), ctx())).snapshot?.snapshot_id ?? '';
    expect(await kindOf(rpc.CreateVolume(restoreReq('pvc-r', other), ctx()))).toBe('exists');
  });
});
