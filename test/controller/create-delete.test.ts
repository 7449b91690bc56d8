import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { META_CLUSTER } from '../../src/services/controller/constants.js';
import { TOPOLOGY_ZONE_KEY } from '../../src/util/package-info.js';
import { Code } from '../../src/csi/status-codes.js';
import { blockCap, CLUSTER, createReq, failure, mountCap, publishReq, snapshotReq, startHarness, testNode, unpublishReq, type Harness } from './harness.js';

const GiB = 1024 ** 3;

describe('CreateVolume / DeleteVolume over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ emulator: { zones: ['nova', 'az2'], quotas: { volumes: 1000, snapshots: 1000, gigabytes: 100_000 } } });
  });
  afterAll(async () => h.stop());

  const ownVolumes = async (name: string) => (await h.client.listAllVolumes({ name })).filter((v) => v.metadata[META_CLUSTER] === CLUSTER);

  describe('error table', () => {
    const cases: Array<[string, () => ReturnType<typeof createReq>, Code, RegExp]> = [
      ['no name', () => createReq(''), Code.INVALID_ARGUMENT, /name/],
      ['no capabilities', () => createReq('e1', { volume_capabilities: [] }), Code.INVALID_ARGUMENT, /capabilit/],
      ['UNKNOWN access mode', () => createReq('e2', { volume_capabilities: [mountCap('UNKNOWN')] }), Code.INVALID_ARGUMENT, /access mode/],
      ['fs type outside the allow-list', () => createReq('e3', { volume_capabilities: [mountCap('SINGLE_NODE_WRITER', 'zfs')] }), Code.INVALID_ARGUMENT, /zfs/],
      ['MULTI_NODE without a multiattach type', () => createReq('e4', { volume_capabilities: [blockCap('MULTI_NODE_MULTI_WRITER')], parameters: { type: 'iscsi' } }), Code.INVALID_ARGUMENT, /multiattach/],
      ['MULTI_NODE mount', () => createReq('e5', { volume_capabilities: [mountCap('MULTI_NODE_MULTI_WRITER')], parameters: { type: 'multiattach' } }), Code.INVALID_ARGUMENT, /block/],
      ['unknown parameter', () => createReq('e6', { parameters: { fstype: 'xfs' } }), Code.INVALID_ARGUMENT, /"fstype"/],
      ['unknown volume type', () => createReq('e7', { parameters: { type: 'gold' } }), Code.INVALID_ARGUMENT, /gold/],
      ['limit below the rounded size', () => createReq('e8', { capacity_range: { required_bytes: String(GiB + 1), limit_bytes: String(GiB + 2) } }), Code.OUT_OF_RANGE, /GiB/],
      ['missing source snapshot', () => createReq('e9', { volume_content_source: { type: 'snapshot', snapshot: { snapshot_id: '00000000-0000-0000-0000-000000000000' } } }), Code.NOT_FOUND, /snapshot/],
      ['source snapshot id not a UUID', () => createReq('e10', { volume_content_source: { type: 'snapshot', snapshot: { snapshot_id: 'nope' } } }), Code.NOT_FOUND, /snapshot/],
      ['missing source volume', () => createReq('e11', { volume_content_source: { type: 'volume', volume: { volume_id: '00000000-0000-0000-0000-000000000000' } } }), Code.NOT_FOUND, /volume/],
      // No LUKS on the node: an encrypted type is refused and its volume deleted, never formatted in plaintext.
      ['encrypted volume type', () => createReq('e12', { parameters: { type: 'iscsi-luks' } }), Code.FAILED_PRECONDITION, /"iscsi-luks" is encrypted.*the volume was deleted/],
    ];
    it.each(cases)('%s', async (_n, make, code, msg) => {
      const f = await failure(h.rpc.CreateVolume(make(), h.ctx()));
      expect(f.code).toBe(code);
      expect(f.message).toMatch(msg);
    });
    it('left nothing behind', async () => {
      const names = cases.map(([, make]) => make().name).filter(Boolean);
      for (const n of names) expect(await ownVolumes(n)).toHaveLength(0);
    });
  });

  it('rounds up to whole GiB, defaults to 1 GiB, tags the volume and reports topology', async () => {
    const res = await h.rpc.CreateVolume(
      createReq('pvc-round', {
        capacity_range: { required_bytes: String(GiB + 1), limit_bytes: '0' },
        parameters: { 'csi.storage.k8s.io/pvc/name': 'data', 'csi.storage.k8s.io/pvc/namespace': 'db', 'csi.storage.k8s.io/pv/name': 'pvc-round' },
        accessibility_requirements: {
          requisite: [{ segments: { [TOPOLOGY_ZONE_KEY]: 'nova' } }, { segments: { [TOPOLOGY_ZONE_KEY]: 'az2' } }],
          preferred: [{ segments: { [TOPOLOGY_ZONE_KEY]: 'az2' } }],
        },
      }),
      h.ctx(),
    );
    expect(res.volume?.capacity_bytes).toBe(String(2 * GiB));
    expect(res.volume?.accessible_topology).toEqual([{ segments: { [TOPOLOGY_ZONE_KEY]: 'az2' } }]);
    expect(res.volume?.volume_context).toEqual({ 'cinder.metal.csi.kungze.io/multiattach': 'false', 'cinder.metal.csi.kungze.io/shared-targets': 'false' });
    const v = await h.client.getVolume(res.volume?.volume_id ?? '');
    expect(v.size).toBe(2);
    expect(v.availabilityZone).toBe('az2');
    expect(v.metadata).toMatchObject({ [META_CLUSTER]: CLUSTER, 'csi.storage.k8s.io/pvc/name': 'data', 'csi.storage.k8s.io/pv/name': 'pvc-round' });

    // Without accessibility requirements the nodes report no zone: no topology, or a PV pinned to
    // a label no node carries would leave its pods unschedulable.
    const dflt = await h.rpc.CreateVolume(createReq('pvc-default', { capacity_range: null, parameters: { availability: 'nova' } }), h.ctx());
    expect(dflt.volume?.capacity_bytes).toBe(String(GiB));
    expect(dflt.volume?.accessible_topology).toEqual([]);
    const got = await h.rpc.ControllerGetVolume({ volume_id: dflt.volume?.volume_id ?? '' } as never, h.ctx());
    expect(got.volume?.accessible_topology).toEqual([]);
  });

  it('is idempotent: 10 calls, one volume, the same answer', async () => {
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await h.rpc.CreateVolume(createReq('pvc-idem', { parameters: { type: 'iscsi' } }), h.ctx()));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(await ownVolumes('pvc-idem')).toHaveLength(1);
  });

  it('ALREADY_EXISTS for the same name with another size, type or source', async () => {
    const first = await h.rpc.CreateVolume(createReq('pvc-conflict', { parameters: { type: 'local' } }), h.ctx());
    const bigger = await failure(h.rpc.CreateVolume(createReq('pvc-conflict', { capacity_range: { required_bytes: String(2 * GiB), limit_bytes: '0' }, parameters: { type: 'local' } }), h.ctx()));
    expect(bigger.code).toBe(Code.ALREADY_EXISTS);
    expect(bigger.message).toContain(first.volume?.volume_id);
    expect((await failure(h.rpc.CreateVolume(createReq('pvc-conflict', { parameters: { type: 'iscsi' } }), h.ctx()))).code).toBe(Code.ALREADY_EXISTS);
    const src = { type: 'volume' as const, volume: { volume_id: first.volume?.volume_id ?? '' } };
    expect((await failure(h.rpc.CreateVolume(createReq('pvc-conflict', { parameters: { type: 'local' }, volume_content_source: src }), h.ctx()))).code).toBe(
      Code.ALREADY_EXISTS,
    );
    expect(await ownVolumes('pvc-conflict')).toHaveLength(1);
  });

  it('20 concurrent calls with one name make one Cinder volume (one controller, no edge lock)', async () => {
    h.emu.resetStats();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => h.rpc.CreateVolume(createReq('pvc-crowd'), h.ctx(15_000))));
    expect(h.emu.stats().requests['POST /volumes']).toBe(1);
    const ids = new Set(results.map((r) => (r.status === 'fulfilled' ? r.value.volume?.volume_id : `failed: ${String(r.reason)}`)));
    expect(ids.size).toBe(1);
    expect(await ownVolumes('pvc-crowd')).toHaveLength(1);
  });

  it('20 concurrent calls from 20 controller replicas converge on one volume and delete the rest', async () => {
    const replicas = Array.from({ length: 20 }, () => h.replica());
    h.emu.resetStats();
    const results = await Promise.allSettled(replicas.map((r) => r.CreateVolume(createReq('pvc-replicas'), h.ctx(15_000))));
    // Without a shared lock they really raced: several POSTs, one survivor.
    const posts = h.emu.stats().requests['POST /volumes'] ?? 0;
    const reasons = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason).slice(0, 160));
    console.log(`20 replicas: ${posts} POST /volumes, ${20 - reasons.length} answered OK; others: ${[...new Set(reasons)].join(' | ')}`);
    expect(posts).toBeGreaterThan(1);
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ volume?: { volume_id?: string } | null }>).value.volume?.volume_id);
    expect(ok.length).toBe(20);
    expect(new Set(ok).size).toBe(1);
    // A retry (as the sidecar would do for anything not OK) settles on the same one, and the
    // race losers are gone once Cinder let them be deleted.
    const again = await h.rpc.CreateVolume(createReq('pvc-replicas'), h.ctx());
    expect(again.volume?.volume_id).toBe(ok[0]);
    await expect.poll(async () => (await h.client.listAllVolumes({ name: 'pvc-replicas' })).length, { timeout: 10_000 }).toBe(1);
  });

  it('restores a snapshot and clones a volume (≥ source size, context says so, source echoed)', async () => {
    // iSCSI-typed: the emulator keeps no file for it, so copies cost nothing.
    const iscsi = { type: 'iscsi' };
    const src = await h.rpc.CreateVolume(createReq('pvc-src', { parameters: iscsi, capacity_range: { required_bytes: String(3 * GiB), limit_bytes: '0' } }), h.ctx());
    const srcId = src.volume?.volume_id ?? '';
    const snap = await h.rpc.CreateSnapshot(snapshotReq('snap-src', srcId), h.ctx());
    const snapId = snap.snapshot?.snapshot_id ?? '';
    const fromSnap = { type: 'snapshot' as const, snapshot: { snapshot_id: snapId } };
    const restored = await h.rpc.CreateVolume(createReq('pvc-restored', { parameters: iscsi, volume_content_source: fromSnap }), h.ctx());
    expect(restored.volume?.capacity_bytes).toBe(String(3 * GiB));
    expect(restored.volume?.content_source).toEqual(fromSnap);
    expect(restored.volume?.volume_context).toEqual({ 'cinder.metal.csi.kungze.io/source': 'snapshot', 'cinder.metal.csi.kungze.io/multiattach': 'false', 'cinder.metal.csi.kungze.io/shared-targets': 'false' });
    expect((await h.client.getVolume(restored.volume?.volume_id ?? '')).snapshotId).toBe(snapId);

    const fromVol = { type: 'volume' as const, volume: { volume_id: srcId } };
    const clone = await h.rpc.CreateVolume(createReq('pvc-clone', { parameters: iscsi, volume_content_source: fromVol, capacity_range: { required_bytes: String(4 * GiB), limit_bytes: '0' } }), h.ctx());
    expect(clone.volume?.capacity_bytes).toBe(String(4 * GiB));
    expect(clone.volume?.content_source).toEqual(fromVol);
    expect(clone.volume?.volume_context).toEqual({ 'cinder.metal.csi.kungze.io/source': 'volume', 'cinder.metal.csi.kungze.io/multiattach': 'false', 'cinder.metal.csi.kungze.io/shared-targets': 'false' });

    const small = await failure(h.rpc.CreateVolume(createReq('pvc-small', { parameters: iscsi, volume_content_source: fromSnap, capacity_range: { required_bytes: String(GiB), limit_bytes: String(2 * GiB) } }), h.ctx()));
    expect(small.code).toBe(Code.OUT_OF_RANGE);
  });

  it('reports no topology with ignore-volume-az', async () => {
    const h2 = await startHarness({ ignoreVolumeAz: true });
    try {
      const res = await h2.rpc.CreateVolume(createReq('pvc-anywhere'), h2.ctx());
      expect(res.volume?.accessible_topology).toEqual([]);
    } finally {
      await h2.stop();
    }
  });

  describe('DeleteVolume', () => {
    it('INVALID_ARGUMENT without an id; success for gone volumes and non-UUID ids', async () => {
      expect((await failure(h.rpc.DeleteVolume({ volume_id: '', secrets: {} }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
      await h.rpc.DeleteVolume({ volume_id: 'not-a-uuid', secrets: {} }, h.ctx());
      await h.rpc.DeleteVolume({ volume_id: '00000000-0000-0000-0000-000000000000', secrets: {} }, h.ctx());
    });

    it('is idempotent: 10 deletes, the volume is gone', async () => {
      const v = await h.rpc.CreateVolume(createReq('pvc-del'), h.ctx());
      const id = v.volume?.volume_id ?? '';
      for (let i = 0; i < 10; i++) await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
      await expect(h.client.getVolume(id)).rejects.toMatchObject({ status: 404 });
    });

    it('FAILED_PRECONDITION while attached (naming the node) or while it has snapshots', async () => {
      const node = testNode();
      const v = await h.rpc.CreateVolume(createReq('pvc-busy', { parameters: { type: 'iscsi' } }), h.ctx());
      const id = v.volume?.volume_id ?? '';
      await h.rpc.ControllerPublishVolume(publishReq(id, node.id), h.ctx());
      const attached = await failure(h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx()));
      expect(attached.code).toBe(Code.FAILED_PRECONDITION);
      expect(attached.message).toContain(node.name);
      await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());

      const snap = await h.rpc.CreateSnapshot(snapshotReq('snap-busy', id), h.ctx());
      expect((await failure(h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx()))).code).toBe(Code.FAILED_PRECONDITION);
      await h.rpc.DeleteSnapshot({ snapshot_id: snap.snapshot?.snapshot_id ?? '', secrets: {} }, h.ctx());
      await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
      await expect(h.client.getVolume(id)).rejects.toMatchObject({ status: 404 });
    });

    it('still deleting at the deadline → ABORTED; the retry neither deletes twice nor fails', async () => {
      const v = await h.rpc.CreateVolume(createReq('pvc-slow-delete'), h.ctx());
      const id = v.volume?.volume_id ?? '';
      h.emu.setFaults({ stuck: { volumes: ['deleting'] } });
      h.emu.resetStats();
      expect((await failure(h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx(1200)))).code).toBe(Code.ABORTED);
      expect((await failure(h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx(1200)))).code).toBe(Code.ABORTED);
      h.emu.setFaults({});
      await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
      expect(h.emu.stats().requests['DELETE /volumes/{id}']).toBe(1);
      await expect(h.client.getVolume(id)).rejects.toMatchObject({ status: 404 });
    });

    it('a volume still creating is deleted once Cinder lets it', async () => {
      h.emu.setFaults({ stuck: { volumes: ['creating'] } });
      expect((await failure(h.rpc.CreateVolume(createReq('pvc-create-then-delete'), h.ctx(1200)))).code).toBe(Code.ABORTED);
      const [made] = await h.client.listAllVolumes({ name: 'pvc-create-then-delete' });
      const id = made?.id ?? '';
      expect((await failure(h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx(1200)))).code).toBe(Code.ABORTED);
      h.emu.setFaults({});
      await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
      await expect(h.client.getVolume(id)).rejects.toMatchObject({ status: 404 });
    });

    it('clears leftover reserved attachments (a publish that crashed) before deleting', async () => {
      const v = await h.rpc.CreateVolume(createReq('pvc-leftover-del'), h.ctx());
      const id = v.volume?.volume_id ?? '';
      await h.client.createAttachment({ volumeId: id, connector: { host: 'crashed', ip: '10.0.0.9', multipath: true, platform: 'x86_64', os_type: 'linux2' } });
      expect((await h.client.getVolume(id)).status).toBe('attaching');
      await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
      await expect(h.client.getVolume(id)).rejects.toMatchObject({ status: 404 });
    });
  });
});
