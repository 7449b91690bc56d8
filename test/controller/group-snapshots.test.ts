import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../../src/csi/status-codes.js';
import { SEED_GROUP_TYPE } from '../../src/emulator/groups.js';
import { createReq, failure, publishReq, startHarness, testNode, type Harness } from './harness.js';

/**
 * VolumeGroupSnapshots (the GroupController) over HTTP against the emulator, whose groups the
 * contract suite checks against the real Cinder: a transient group per group snapshot, the
 * volumes out of it as soon as the snapshot is cut, everything gone after Delete.
 */
describe('VolumeGroupSnapshots over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.stop());

  let seq = 0;
  const volume = async (): Promise<string> => (await h.rpc.CreateVolume(createReq(`pvc-gs-${++seq}`, { parameters: { type: 'iscsi' } }), h.ctx())).volume?.volume_id ?? '';
  const params = { groupType: SEED_GROUP_TYPE };
  const create = (name: string, ids: string[], parameters: Record<string, string> = params) =>
    h.rpc.CreateVolumeGroupSnapshot({ name, source_volume_ids: ids, parameters, secrets: {} }, h.ctx());
  const groupsLeft = async () => (await h.client.listAllGroups()).length;

  it('advertises CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT', async () => {
    expect((await h.rpc.GroupControllerGetCapabilities({}, h.ctx())).capabilities).toEqual([{ type: 'rpc', rpc: { type: 'CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT' } }]);
  });

  it('refuses bad requests by field: name, source_volume_ids, the group type parameter; a missing volume NOT_FOUND', async () => {
    const a = await volume();
    expect(await failure(create('', [a]))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('name') });
    expect(await failure(create('g', []))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('source_volume_ids') });
    expect(await failure(create('g', [a, a]))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('twice') });
    expect(await failure(create('g', [a], {}))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('parameters.groupType') });
    expect(await failure(create('g', [a], { groupType: 'x', colour: 'red' }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('"colour"') });
    expect(await failure(create('g', [a], { groupType: 'no-such-group-type' }))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('no-such-group-type') });
    expect((await failure(create('g', [a, '00000000-0000-4000-8000-000000000000']))).code).toBe(Code.NOT_FOUND);
    expect((await failure(h.rpc.GetVolumeGroupSnapshot({ group_snapshot_id: '', snapshot_ids: [], secrets: {} }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
    expect((await failure(h.rpc.GetVolumeGroupSnapshot({ group_snapshot_id: 'nope', snapshot_ids: [], secrets: {} }, h.ctx()))).code).toBe(Code.NOT_FOUND);
    expect(await h.rpc.DeleteVolumeGroupSnapshot({ group_snapshot_id: '00000000-0000-4000-8000-000000000000', snapshot_ids: [], secrets: {} }, h.ctx())).toEqual({});
    expect(await groupsLeft()).toBe(0);
  });

  it('cuts one group snapshot of two volumes (one attached), idempotent by name; members are ordinary snapshots; volumes leave the group at once', async () => {
    const a = await volume();
    const b = await volume();
    await h.rpc.ControllerPublishVolume(publishReq(b, testNode().id), h.ctx());
    const first = await create('vgs-1', [a, b]);
    const gs = first.group_snapshot;
    expect(gs).toMatchObject({ ready_to_use: true });
    const members = gs?.snapshots ?? [];
    expect(members.map((s) => s.source_volume_id).sort()).toEqual([a, b].sort());
    for (const s of members) expect(s).toMatchObject({ group_snapshot_id: gs?.group_snapshot_id, ready_to_use: true });
    // Idempotent; the same name for other volumes is ALREADY_EXISTS.
    const again = await create('vgs-1', [b, a]);
    expect(again.group_snapshot?.group_snapshot_id).toBe(gs?.group_snapshot_id);
    expect((await failure(create('vgs-1', [a]))).code).toBe(Code.ALREADY_EXISTS);
    // Members are listed, got and restorable like any snapshot, but deleted only with the group.
    const listed = await h.rpc.ListSnapshots({ snapshot_id: '', source_volume_id: a, max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
    expect(listed.entries?.map((e) => e.snapshot?.snapshot_id)).toContain(members.find((s) => s.source_volume_id === a)?.snapshot_id);
    const restored = await h.rpc.CreateVolume(createReq('pvc-gs-restore', { volume_content_source: { type: 'snapshot', snapshot: { snapshot_id: members[0]?.snapshot_id ?? '' } } }), h.ctx());
    expect(restored.volume?.content_source?.snapshot?.snapshot_id).toBe(members[0]?.snapshot_id);
    expect(await failure(h.rpc.DeleteSnapshot({ snapshot_id: members[0]?.snapshot_id ?? '', secrets: {} }, h.ctx()))).toMatchObject({
      code: Code.FAILED_PRECONDITION,
      message: expect.stringContaining('VolumeGroupSnapshot'),
    });
    // The volumes are in no group: expandable, and in a later group snapshot.
    expect((await h.client.getVolume(a)).groupId).toBeUndefined();
    await h.rpc.ControllerExpandVolume({ volume_id: a, capacity_range: { required_bytes: String(2 * 1024 ** 3), limit_bytes: '0' }, secrets: {}, volume_capability: null }, h.ctx());
    const later = await create('vgs-2', [a]);
    expect(later.group_snapshot?.snapshots?.map((s) => s.source_volume_id)).toEqual([a]);
    expect((await h.rpc.GetVolumeGroupSnapshot({ group_snapshot_id: gs?.group_snapshot_id ?? '', snapshot_ids: [], secrets: {} }, h.ctx())).group_snapshot).toEqual(gs);

    // Delete: the group snapshot, its members and its group; idempotent.
    for (const g of [gs, later.group_snapshot]) {
      for (let i = 0; i < 3; i++) await h.rpc.DeleteVolumeGroupSnapshot({ group_snapshot_id: g?.group_snapshot_id ?? '', snapshot_ids: [], secrets: {} }, h.ctx());
    }
    expect((await failure(h.rpc.GetVolumeGroupSnapshot({ group_snapshot_id: gs?.group_snapshot_id ?? '', snapshot_ids: [], secrets: {} }, h.ctx()))).code).toBe(Code.NOT_FOUND);
    expect(await groupsLeft()).toBe(0);
    expect((await h.client.listAllSnapshots()).filter((s) => s.groupSnapshotId)).toEqual([]);
    // The source volumes can go now (the restored one is independent).
    for (const id of [a, b, restored.volume?.volume_id ?? '']) {
      await h.rpc.ControllerUnpublishVolume({ volume_id: id, node_id: '', secrets: {} }, h.ctx());
      await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
    }
  });

  it('a call that runs out of time mid-way is finished by the next one, with one group and one group snapshot', async () => {
    const a = await volume();
    h.emu.setFaults({ routes: { 'POST /group_snapshots': { latencyMs: 0 } } });
    // 1 ms of budget: the first call gets as far as it can and answers ABORTED or not ready.
    const r = await h.rpc.CreateVolumeGroupSnapshot({ name: 'vgs-slow', source_volume_ids: [a], parameters: params, secrets: {} }, h.ctx(1)).catch(() => undefined);
    expect(r?.group_snapshot?.ready_to_use ?? false).toBe(false);
    const done = await create('vgs-slow', [a]);
    expect(done.group_snapshot?.ready_to_use).toBe(true);
    expect((await h.client.listAllGroupSnapshots()).filter((g) => g.name === 'vgs-slow')).toHaveLength(1);
    expect(await groupsLeft()).toBe(1);
    await h.rpc.DeleteVolumeGroupSnapshot({ group_snapshot_id: done.group_snapshot?.group_snapshot_id ?? '', snapshot_ids: [], secrets: {} }, h.ctx());
    expect(await groupsLeft()).toBe(0);
    h.emu.setFaults({});
  });
});
