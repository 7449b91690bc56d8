import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRegistry } from '../fakes/memory-registry.js';
import { UNLIMITED_BYTES } from '../../src/services/controller/capacity.js';
import { Code } from '../../src/csi/status-codes.js';
import { setQuota } from '../helpers/cinder-quota.js';
import { blockCap, createReq, failure, mountCap, startHarness, type Harness } from './harness.js';

const GiB = 1024 ** 3;

describe('ListVolumes, ValidateVolumeCapabilities, ControllerGetVolume, GetCapacity, ControllerGetCapabilities', () => {
  let h: Harness;
  let other: Harness['rpc'];
  const mine: string[] = [];
  beforeAll(async () => {
    h = await startHarness({ emulator: { quotas: { volumes: 1000, gigabytes: 100_000 } } });
    for (let i = 0; i < 7; i++) mine.push((await h.rpc.CreateVolume(createReq(`pvc-list-${i}`), h.ctx())).volume?.volume_id ?? '');
    // Another cluster on the same project: never listed here.
    const foreign = await startHarnessReplicaOf(h, 'other-cluster');
    other = foreign;
    await other.CreateVolume(createReq('pvc-foreign'), h.ctx());
  });
  afterAll(async () => h.stop());

  describe('ListVolumes', () => {
    it('pages through exactly this cluster’s volumes', async () => {
      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const res = await h.rpc.ListVolumes({ max_entries: 3, starting_token: token }, h.ctx());
        expect(res.entries?.length ?? 0).toBeLessThanOrEqual(3);
        seen.push(...(res.entries ?? []).map((e) => e.volume?.volume_id ?? ''));
        token = res.next_token ?? '';
        pages++;
      } while (token && pages < 10);
      expect(pages).toBe(3);
      expect(seen.sort()).toEqual([...mine].sort());
      const all = await h.rpc.ListVolumes({ max_entries: 0, starting_token: '' }, h.ctx());
      expect((all.entries ?? []).map((e) => e.volume?.volume_id).sort()).toEqual([...mine].sort());
      expect(all.next_token).toBe('');
      for (const e of all.entries ?? []) {
        expect(e.volume?.capacity_bytes).toBe(String(GiB));
        expect(e.status?.published_node_ids).toEqual([]);
        expect(e.status?.volume_condition).toMatchObject({ abnormal: false });
      }
    });

    it('accepts a token whose last volume was deleted meanwhile', async () => {
      const first = await h.rpc.ListVolumes({ max_entries: 2, starting_token: '' }, h.ctx());
      const last = first.entries?.[1]?.volume?.volume_id ?? '';
      await h.rpc.DeleteVolume({ volume_id: last, secrets: {} }, h.ctx());
      mine.splice(mine.indexOf(last), 1);
      const rest = await h.rpc.ListVolumes({ max_entries: 0, starting_token: first.next_token ?? '' }, h.ctx());
      const ids = (rest.entries ?? []).map((e) => e.volume?.volume_id);
      expect(ids).not.toContain(last);
      expect(ids.length).toBe(mine.length - 1);
    });

    it('bad tokens → ABORTED; negative max_entries → INVALID_ARGUMENT', async () => {
      expect((await failure(h.rpc.ListVolumes({ max_entries: 0, starting_token: 'bogus' }, h.ctx()))).code).toBe(Code.ABORTED);
      expect((await failure(h.rpc.ListVolumes({ max_entries: -1, starting_token: '' }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
    });
  });

  describe('ValidateVolumeCapabilities', () => {
    it('confirms what the volume serves and explains what it does not', async () => {
      const id = mine[0] ?? '';
      const ok = await h.rpc.ValidateVolumeCapabilities(
        { volume_id: id, volume_capabilities: [mountCap('SINGLE_NODE_WRITER', 'xfs'), blockCap()], volume_context: {}, parameters: {}, secrets: {}, mutable_parameters: {} },
        h.ctx(),
      );
      expect(ok.confirmed?.volume_capabilities).toHaveLength(2);
      const no = async (o: Record<string, unknown>) =>
        h.rpc.ValidateVolumeCapabilities({ volume_id: id, volume_capabilities: [mountCap()], volume_context: {}, parameters: {}, secrets: {}, mutable_parameters: {}, ...o }, h.ctx());
      const multi = await no({ volume_capabilities: [blockCap('MULTI_NODE_MULTI_WRITER')] });
      expect(multi.confirmed).toBeFalsy();
      expect(multi.message).toMatch(/multiattach/);
      expect((await no({ parameters: { type: 'rbd' } })).message).toMatch(/type/);
      expect((await no({ parameters: { nonsense: '1' } })).message).toMatch(/nonsense/);
      expect((await no({ volume_context: { 'cinder.metal.csi.kungze.io/source': 'snapshot' } })).message).toMatch(/volume_context/);
      expect((await no({ volume_capabilities: [mountCap('SINGLE_NODE_WRITER', 'vfat')] })).message).toMatch(/vfat/);
    });

    it('error table', async () => {
      const base = { volume_context: {}, parameters: {}, secrets: {}, mutable_parameters: {} };
      expect((await failure(h.rpc.ValidateVolumeCapabilities({ ...base, volume_id: '', volume_capabilities: [mountCap()] }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
      expect((await failure(h.rpc.ValidateVolumeCapabilities({ ...base, volume_id: mine[0] ?? '', volume_capabilities: [] }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
      expect((await failure(h.rpc.ValidateVolumeCapabilities({ ...base, volume_id: '00000000-0000-0000-0000-000000000000', volume_capabilities: [mountCap()] }, h.ctx()))).code).toBe(
        Code.NOT_FOUND,
      );
      expect((await failure(h.rpc.ValidateVolumeCapabilities({ ...base, volume_id: 'x', volume_capabilities: [mountCap()] }, h.ctx()))).code).toBe(Code.NOT_FOUND);
    });
  });

  describe('ControllerGetVolume', () => {
    it('reports the volume like CreateVolume did, NOT_FOUND when gone', async () => {
      const created = await h.rpc.CreateVolume(createReq('pvc-get'), h.ctx());
      const got = await h.rpc.ControllerGetVolume({ volume_id: created.volume?.volume_id ?? '' }, h.ctx());
      expect(got.volume).toEqual(created.volume);
      expect(got.status).toEqual({ published_node_ids: [], volume_condition: { abnormal: false, message: 'volume is available' } });
      expect((await failure(h.rpc.ControllerGetVolume({ volume_id: '00000000-0000-0000-0000-000000000000' }, h.ctx()))).code).toBe(Code.NOT_FOUND);
      expect((await failure(h.rpc.ControllerGetVolume({ volume_id: '' }, h.ctx()))).code).toBe(Code.INVALID_ARGUMENT);
    });

    it('an error volume is abnormal', async () => {
      h.emu.setFaults({ errorOnCreate: { volumes: 1 } });
      const f = await failure(h.rpc.CreateVolume(createReq('pvc-broken'), h.ctx()));
      h.emu.setFaults({});
      expect(f.code).toBe(Code.INTERNAL);
      // CreateVolume deleted what failed: nothing of that name is left.
      await expect.poll(async () => (await h.client.listAllVolumes({ name: 'pvc-broken' })).length, { timeout: 5000 }).toBe(0);
      // An error volume that exists (made outside the driver) reads as abnormal.
      h.emu.setFaults({ errorOnCreate: { volumes: 1 } });
      const raw = await h.client.createVolume({ name: 'raw-broken', size: 1 });
      await expect.poll(async () => (await h.client.getVolume(raw.id)).status, { timeout: 5000 }).toBe('error');
      h.emu.setFaults({});
      const got = await h.rpc.ControllerGetVolume({ volume_id: raw.id }, h.ctx());
      expect(got.status?.volume_condition?.abnormal).toBe(true);
      expect(got.status?.volume_condition?.message).toMatch(/error/);
    });
  });

  describe('GetCapacity', () => {
    it('reports the gigabytes quota headroom in bytes', async () => {
      const quota = await h.client.getQuotaUsage();
      const g = quota.gigabytes;
      const res = await h.rpc.GetCapacity({ volume_capabilities: [], parameters: {}, accessible_topology: null }, h.ctx());
      if (!g || g.limit < 0) expect(res.available_capacity).toBe(String(UNLIMITED_BYTES));
      else expect(res.available_capacity).toBe(String((g.limit - g.inUse - g.reserved) * GiB));
      await setQuota(h.client, { gigabytes: g ? g.inUse + g.reserved + 5 : 5 });
      const after = await h.rpc.GetCapacity({ volume_capabilities: [], parameters: {}, accessible_topology: null }, h.ctx());
      expect(after.available_capacity).toBe(String(5 * GiB));
      await setQuota(h.client, { gigabytes: -1 });
      expect((await h.rpc.GetCapacity({ volume_capabilities: [], parameters: {}, accessible_topology: null }, h.ctx())).available_capacity).toBe(String(UNLIMITED_BYTES));
      await setQuota(h.client, { gigabytes: 100_000 });
      expect((await failure(h.rpc.GetCapacity({ volume_capabilities: [], parameters: { speed: 'fast' }, accessible_topology: null }, h.ctx()))).code).toBe(
        Code.INVALID_ARGUMENT,
      );
    });

    it('a full quota makes CreateVolume RESOURCE_EXHAUSTED and leaves nothing behind', async () => {
      const g = (await h.client.getQuotaUsage()).gigabytes;
      await setQuota(h.client, { gigabytes: (g?.inUse ?? 0) + (g?.reserved ?? 0) });
      const f = await failure(h.rpc.CreateVolume(createReq('pvc-over-quota'), h.ctx()));
      await setQuota(h.client, { gigabytes: 100_000 });
      expect(f.code).toBe(Code.RESOURCE_EXHAUSTED);
      expect(await h.client.listAllVolumes({ name: 'pvc-over-quota' })).toHaveLength(0);
    });
  });

  it('ControllerGetCapabilities lists what services/capabilities.ts says', async () => {
    const { CONTROLLER_CAPABILITIES } = await import('../../src/services/capabilities.js');
    const res = await h.rpc.ControllerGetCapabilities({}, h.ctx());
    expect((res.capabilities ?? []).map((c) => c.rpc?.type)).toEqual([...CONTROLLER_CAPABILITIES]);
  });
});

/** A second controller of another cluster on the same Cinder project. */
async function startHarnessReplicaOf(h: Harness, clusterId: string): Promise<Harness['rpc']> {
  const { createControllerOperations } = await import('../../src/services/controller/index.js');
  const { controllerRpcs } = await import('../../src/csi/controller.js');
  const { createControllerWaiters } = await import('../../src/cinder/waiters.js');
  const operations = createControllerOperations({
    cinder: h.client,
    waiter: createControllerWaiters(h.client),
    clusterId,
    registry: new MemoryRegistry(),
    ignoreVolumeAz: false,
    log: h.log,
  });
  return controllerRpcs(operations) as unknown as Harness['rpc'];
}
