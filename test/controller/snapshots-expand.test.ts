import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { META_CLUSTER } from '../../src/services/controller/constants.js';
import { Code } from '../../src/csi/status-codes.js';
import { blockCap, CLUSTER, createReq, failure, mountCap, publishReq, snapshotReq, startHarness, testNode, unpublishReq, type Harness } from './harness.js';

const GiB = 1024 ** 3;

describe('snapshots and expansion over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ emulator: { quotas: { volumes: 1000, snapshots: 1000, gigabytes: 100_000 } } });
  });
  afterAll(async () => h.stop());

  let seq = 0;
  const volume = async (sizeGiB = 1) =>
    (await h.rpc.CreateVolume(createReq(`pvc-se-${++seq}`, { parameters: { type: 'iscsi' }, capacity_range: { required_bytes: String(sizeGiB * GiB), limit_bytes: '0' } }), h.ctx()))
      .volume?.volume_id ?? '';

  describe('CreateSnapshot', () => {
    it('error table', async () => {
      const id = await volume();
      expect((await failure(h.rpc.CreateSnapshot(snapshotReq('', id), h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
      expect((await failure(h.rpc.CreateSnapshot(snapshotReq('s-e1', ''), h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
      expect((await failure(h.rpc.CreateSnapshot(snapshotReq('s-e2', '00000000-0000-0000-0000-000000000000'), h.ctx()))).code).toBe(Code.NOT_FOUND);
      expect((await failure(h.rpc.CreateSnapshot(snapshotReq('s-e3', 'nope'), h.ctx()))).code).toBe(Code.NOT_FOUND);
      expect((await failure(h.rpc.CreateSnapshot(snapshotReq('s-e4', id, { retention: '7d' }), h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
    });

    it('is idempotent (10 calls, one snapshot) and ALREADY_EXISTS for another source', async () => {
      const id = await volume(2);
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push(await h.rpc.CreateSnapshot(snapshotReq('snap-idem', id, { 'csi.storage.k8s.io/volumesnapshot/name': 'vs' }), h.ctx()));
      expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
      const s = answers[0]?.snapshot;
      expect(s).toMatchObject({ source_volume_id: id, size_bytes: String(2 * GiB), ready_to_use: true });
      expect(Number(s?.creation_time?.seconds)).toBeGreaterThan(Date.now() / 1000 - 600);
      const own = (await h.client.listAllSnapshots({ name: 'snap-idem' })).filter((x) => x.metadata[META_CLUSTER] === CLUSTER);
      expect(own).toHaveLength(1);
      expect(own[0]?.metadata['csi.storage.k8s.io/volumesnapshot/name']).toBe('vs');
      const otherVol = await volume();
      const f = await failure(h.rpc.CreateSnapshot(snapshotReq('snap-idem', otherVol), h.ctx()));
      expect(f.code).toBe(Code.ALREADY_EXISTS);
    });

    it('snapshots an in-use volume (force below 3.66, none from 3.66)', async () => {
      for (const version of ['3.70', '3.60']) {
        const hv = version === '3.70' ? h : await startHarness({ emulator: { maxMicroversion: version } });
        try {
          const id = (await hv.rpc.CreateVolume(createReq(`pvc-inuse-${version}`), hv.ctx())).volume?.volume_id ?? '';
          const node = testNode();
          await hv.rpc.ControllerPublishVolume(publishReq(id, node.id), hv.ctx());
          const s = await hv.rpc.CreateSnapshot(snapshotReq(`snap-inuse-${version}`, id), hv.ctx());
          expect(s.snapshot?.ready_to_use).toBe(true);
          await hv.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), hv.ctx());
        } finally {
          if (hv !== h) await hv.stop();
        }
      }
    });

    it('still creating at the deadline → OK with ready_to_use=false; later ready', async () => {
      const id = await volume();
      h.emu.setFaults({ stuck: { snapshots: ['creating'] } });
      const first = await h.rpc.CreateSnapshot(snapshotReq('snap-slow', id), h.ctx(1500));
      expect(first.snapshot?.ready_to_use).toBe(false);
      h.emu.setFaults({});
      const again = await h.rpc.CreateSnapshot(snapshotReq('snap-slow', id), h.ctx());
      expect(again.snapshot?.snapshot_id).toBe(first.snapshot?.snapshot_id);
      expect(again.snapshot?.ready_to_use).toBe(true);
    });
  });

  describe('GetSnapshot', () => {
    it('reads a snapshot as ListSnapshots by id does; NOT_FOUND for a missing, foreign-shaped or deleted one', async () => {
      const id = await volume();
      h.emu.setFaults({ stuck: { snapshots: ['creating'] } });
      const cut = (await h.rpc.CreateSnapshot(snapshotReq('snap-get', id), h.ctx(1500))).snapshot;
      const snapshotId = cut?.snapshot_id ?? '';
      const get = async () => (await h.rpc.GetSnapshot({ snapshot_id: snapshotId, secrets: {} }, h.ctx())).snapshot;
      // Still creating in Cinder: reported, not ready.
      expect(await get()).toMatchObject({ snapshot_id: snapshotId, source_volume_id: id, ready_to_use: false });
      h.emu.setFaults({});
      const ready = (await h.rpc.CreateSnapshot(snapshotReq('snap-get', id), h.ctx())).snapshot;
      const listed = (await h.rpc.ListSnapshots({ snapshot_id: snapshotId, source_volume_id: '', max_entries: 0, starting_token: '', secrets: {} }, h.ctx())).entries?.[0]?.snapshot;
      expect(await get()).toEqual(ready);
      expect(await get()).toEqual(listed);
      expect(ready?.ready_to_use).toBe(true);

      for (const missing of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
        expect((await failure(h.rpc.GetSnapshot({ snapshot_id: missing, secrets: {} }, h.ctx()))).code).toBe(Code.NOT_FOUND);
      }
      expect(await failure(h.rpc.GetSnapshot({ snapshot_id: '', secrets: {} }, h.ctx()))).toMatchObject({ code: Code.INVALID_ARGUMENT, message: expect.stringContaining('snapshot_id') });
      await h.rpc.DeleteSnapshot({ snapshot_id: snapshotId, secrets: {} }, h.ctx());
      expect((await failure(h.rpc.GetSnapshot({ snapshot_id: snapshotId, secrets: {} }, h.ctx()))).code).toBe(Code.NOT_FOUND);
    });
  });

  describe('ListSnapshots / DeleteSnapshot', () => {
    it('by id (missing → empty), by source volume, paged, bad token ABORTED', async () => {
      const a = await volume();
      const b = await volume();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await h.rpc.CreateSnapshot(snapshotReq(`snap-l-a${i}`, a), h.ctx())).snapshot?.snapshot_id ?? '');
      const onB = (await h.rpc.CreateSnapshot(snapshotReq('snap-l-b', b), h.ctx())).snapshot?.snapshot_id ?? '';

      const byId = await h.rpc.ListSnapshots({ snapshot_id: onB, source_volume_id: '', max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
      expect(byId.entries?.map((e) => e.snapshot?.snapshot_id)).toEqual([onB]);
      for (const missing of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
        const none = await h.rpc.ListSnapshots({ snapshot_id: missing, source_volume_id: '', max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
        expect(none.entries).toEqual([]);
      }
      const mismatch = await h.rpc.ListSnapshots({ snapshot_id: onB, source_volume_id: a, max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
      expect(mismatch.entries).toEqual([]);

      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const res = await h.rpc.ListSnapshots({ snapshot_id: '', source_volume_id: a, max_entries: 2, starting_token: token, secrets: {} }, h.ctx());
        expect(res.entries?.length ?? 0).toBeLessThanOrEqual(2);
        seen.push(...(res.entries ?? []).map((e) => e.snapshot?.snapshot_id ?? ''));
        token = res.next_token ?? '';
        pages++;
      } while (token && pages < 5);
      expect(seen.sort()).toEqual([...ids].sort());
      const all = await h.rpc.ListSnapshots({ snapshot_id: '', source_volume_id: '', max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
      expect(all.entries?.map((e) => e.snapshot?.snapshot_id)).toEqual(expect.arrayContaining([...ids, onB]));
      const noSource = await h.rpc.ListSnapshots({ snapshot_id: '', source_volume_id: '00000000-0000-0000-0000-000000000000', max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
      expect(noSource.entries).toEqual([]);
      expect((await failure(h.rpc.ListSnapshots({ snapshot_id: '', source_volume_id: '', max_entries: 1, starting_token: 'zzz', secrets: {} }, h.ctx()))).code).toBe(Code.ABORTED);

      for (const id of [...ids, onB]) for (let i = 0; i < 10; i++) await h.rpc.DeleteSnapshot({ snapshot_id: id, secrets: {} }, h.ctx());
      await expect(h.client.getSnapshot(onB)).rejects.toMatchObject({ status: 404 });
      await h.rpc.DeleteSnapshot({ snapshot_id: 'not-a-uuid', secrets: {} }, h.ctx());
      expect((await failure(h.rpc.DeleteSnapshot({ snapshot_id: '', secrets: {} }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
    });

    it('does not list other clusters’ snapshots', async () => {
      const id = await volume();
      const foreign = await h.client.createSnapshot({ volumeId: id, name: 'foreign', metadata: { [META_CLUSTER]: 'elsewhere' } });
      await expect.poll(async () => (await h.client.getSnapshot(foreign.id)).status).toBe('available');
      const all = await h.rpc.ListSnapshots({ snapshot_id: '', source_volume_id: id, max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
      expect(all.entries).toEqual([]);
      // An exact id is answered whoever made it (e.g. a pre-provisioned VolumeSnapshotContent).
      const byId = await h.rpc.ListSnapshots({ snapshot_id: foreign.id, source_volume_id: '', max_entries: 0, starting_token: '', secrets: {} }, h.ctx());
      expect(byId.entries).toHaveLength(1);
    });
  });

  describe('ControllerExpandVolume', () => {
    it('grows offline to whole GiB, is idempotent (10 calls), a no-op answers the real size', async () => {
      const id = await volume(1);
      const req = { volume_id: id, capacity_range: { required_bytes: String(2 * GiB + 1), limit_bytes: '0' }, secrets: {}, volume_capability: mountCap() };
      for (let i = 0; i < 10; i++) {
        const res = await h.rpc.ControllerExpandVolume(req, h.ctx());
        expect(res).toEqual({ capacity_bytes: String(3 * GiB), node_expansion_required: true });
      }
      expect((await h.client.getVolume(id)).size).toBe(3);
      const smaller = await h.rpc.ControllerExpandVolume({ ...req, capacity_range: { required_bytes: String(GiB), limit_bytes: '0' } }, h.ctx());
      expect(smaller.capacity_bytes).toBe(String(3 * GiB));
    });

    it('grows an in-use volume (3.42+), block volumes need the node too', async () => {
      const id = await volume(1);
      const node = testNode();
      await h.rpc.ControllerPublishVolume(publishReq(id, node.id, { volume_capability: blockCap() }), h.ctx());
      const res = await h.rpc.ControllerExpandVolume(
        { volume_id: id, capacity_range: { required_bytes: String(2 * GiB), limit_bytes: '0' }, secrets: {}, volume_capability: blockCap() },
        h.ctx(),
      );
      expect(res).toEqual({ capacity_bytes: String(2 * GiB), node_expansion_required: true });
      const v = await h.client.getVolume(id);
      expect([v.size, v.status]).toEqual([2, 'in-use']);
      await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    });

    it('error table', async () => {
      const id = await volume(2);
      const base = { secrets: {}, volume_capability: null };
      const cases: Array<[string, Parameters<Harness['rpc']['ControllerExpandVolume']>[0], Code]> = [
        ['no id', { ...base, volume_id: '', capacity_range: { required_bytes: String(GiB), limit_bytes: '0' } }, Code.INVALID_ARGUMENT],
        ['no range', { ...base, volume_id: id, capacity_range: null }, Code.INVALID_ARGUMENT],
        ['missing volume', { ...base, volume_id: '00000000-0000-0000-0000-000000000000', capacity_range: { required_bytes: String(GiB), limit_bytes: '0' } }, Code.NOT_FOUND],
        ['limit below rounding', { ...base, volume_id: id, capacity_range: { required_bytes: String(3 * GiB + 1), limit_bytes: String(3 * GiB + 5) } }, Code.OUT_OF_RANGE],
        ['already above the limit', { ...base, volume_id: id, capacity_range: { required_bytes: String(GiB), limit_bytes: String(GiB) } }, Code.OUT_OF_RANGE],
      ];
      for (const [what, req, code] of cases) expect((await failure(h.rpc.ControllerExpandVolume(req, h.ctx()))).code, what).toBe(code);
      expect((await h.client.getVolume(id)).size).toBe(2);
    });

    it('still extending at the deadline → ABORTED; the retry answers the new size', async () => {
      const id = await volume(1);
      h.emu.setFaults({ stuck: { volumes: ['extending'] } });
      const req = { volume_id: id, capacity_range: { required_bytes: String(4 * GiB), limit_bytes: '0' }, secrets: {}, volume_capability: null };
      expect((await failure(h.rpc.ControllerExpandVolume(req, h.ctx(1500)))).code).toBe(Code.ABORTED);
      h.emu.setFaults({});
      expect((await h.rpc.ControllerExpandVolume(req, h.ctx())).capacity_bytes).toBe(String(4 * GiB));
      expect(h.emu.stats().actions['os-extend']).toBeGreaterThanOrEqual(1);
    });

    it('error_extending → INTERNAL', async () => {
      const id = await volume(1);
      h.emu.setFaults({ errorOnExtend: 1 });
      const f = await failure(h.rpc.ControllerExpandVolume({ volume_id: id, capacity_range: { required_bytes: String(2 * GiB), limit_bytes: '0' }, secrets: {}, volume_capability: null }, h.ctx()));
      h.emu.setFaults({});
      expect(f.code).toBe(Code.INTERNAL);
      expect(f.message).toMatch(/error_extending/);
    });
  });
});
