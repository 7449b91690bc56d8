import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code } from '../../src/csi/status-codes.js';
import { createReq, failure, publishReq, snapshotReq, startHarness, testNode, unpublishReq, type Harness } from './harness.js';
import { mapError } from '../../src/csi/error-map.js';

/** What the CSI sidecars do: retry while the answer says "not yet" (ABORTED, UNAVAILABLE, ...). */
async function retried<T>(h: Harness, call: () => Promise<T>, attempts = 8): Promise<{ value: T; failures: Code[] }> {
  const failures: Code[] = [];
  for (let i = 0; i < attempts; i++) {
    try {
      return { value: await call(), failures };
    } catch (err) {
      const code = mapError(err).code;
      if (![Code.ABORTED, Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED, Code.INTERNAL].includes(code)) throw err;
      failures.push(code);
    }
  }
  throw new Error(`still failing after ${attempts} attempts: ${failures.join(',')}`);
}

describe('faults: nothing duplicated, nothing leaked', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ emulator: { quotas: { volumes: 1000, snapshots: 1000, gigabytes: 100_000 } } });
  });
  afterAll(async () => h.stop());

  it('a lost reply to POST /volumes: the call finds the volume it made — one POST, one volume', async () => {
    h.emu.resetStats();
    h.emu.setFaults({ routes: { 'POST /volumes': { loseReplyAfterCommit: 1 } } });
    const res = await h.rpc.CreateVolume(createReq('pvc-lost-reply'), h.ctx());
    h.emu.setFaults({});
    expect(h.emu.stats().faults.loseReply).toBe(1);
    expect(h.emu.stats().requests['POST /volumes']).toBe(1);
    const all = await h.client.listAllVolumes({ name: 'pvc-lost-reply' });
    expect(all.map((v) => v.id)).toEqual([res.volume?.volume_id]);
  });

  it('a lost reply to POST /snapshots: one snapshot', async () => {
    const vol = await h.rpc.CreateVolume(createReq('pvc-snap-lost', { parameters: { type: 'iscsi' } }), h.ctx());
    h.emu.setFaults({ routes: { 'POST /snapshots': { loseReplyAfterCommit: 1 } } });
    const snap = await h.rpc.CreateSnapshot(snapshotReq('snap-lost-reply', vol.volume?.volume_id ?? ''), h.ctx());
    h.emu.setFaults({});
    expect((await h.client.listAllSnapshots({ name: 'snap-lost-reply' })).map((s) => s.id)).toEqual([snap.snapshot?.snapshot_id]);
  });

  it('a lost reply to POST /attachments: the retry cleans the orphan and attaches once', async () => {
    const vol = await h.rpc.CreateVolume(createReq('pvc-att-lost'), h.ctx());
    const id = vol.volume?.volume_id ?? '';
    const node = testNode();
    h.emu.setFaults({ routes: { 'POST /attachments': { loseReplyAfterCommit: 1 } } });
    const first = await failure(h.rpc.ControllerPublishVolume(publishReq(id, node.id), h.ctx()));
    h.emu.setFaults({});
    expect(first.code).toBe(Code.UNAVAILABLE);
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(1);
    const res = await h.rpc.ControllerPublishVolume(publishReq(id, node.id), h.ctx());
    const atts = await h.client.listAttachments({ volumeId: id });
    expect(atts.map((a) => [a.id, a.status])).toEqual([[res.publish_context?.attachmentId, 'attached']]);
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
  });

  it('5xx bursts on every mutating route: the lifecycle completes through retries, no duplicates, no leftovers', async () => {
    const node = testNode();
    h.emu.resetStats();
    h.emu.setFaults({
      errorStatus: 503,
      routes: {
        'POST /volumes': { failNext: 2 },
        'GET /volumes/detail': { failNext: 3 },
        'POST /volumes/{id}/metadata': { failNext: 1 },
        'POST /attachments': { failNext: 2 },
        'POST /attachments/{id}/action': { failNext: 2 },
        'DELETE /attachments/{id}': { failNext: 2 },
        'POST /snapshots': { failNext: 2 },
        'DELETE /snapshots/{id}': { failNext: 2 },
        'DELETE /volumes/{id}': { failNext: 2 },
      },
    });
    const created = await retried(h, () => h.rpc.CreateVolume(createReq('pvc-5xx', { parameters: { type: 'iscsi' } }), h.ctx()));
    const id = created.value.volume?.volume_id ?? '';
    const published = await retried(h, () => h.rpc.ControllerPublishVolume(publishReq(id, node.id), h.ctx()));
    const snap = await retried(h, () => h.rpc.CreateSnapshot(snapshotReq('snap-5xx', id), h.ctx()));
    await retried(h, () => h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx()));
    await retried(h, () => h.rpc.DeleteSnapshot({ snapshot_id: snap.value.snapshot?.snapshot_id ?? '', secrets: {} }, h.ctx()));
    await retried(h, () => h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx()));
    const faults = h.emu.stats().faults.error ?? 0;
    h.emu.setFaults({});
    console.log(
      `5xx burst: ${faults} injected errors; retries per RPC: create ${created.failures.length}, publish ${published.failures.length}, snapshot ${snap.failures.length}`,
    );
    expect(faults).toBeGreaterThanOrEqual(10);
    expect(await h.client.listAllVolumes({ name: 'pvc-5xx' })).toHaveLength(0);
    expect(await h.client.listAllSnapshots({ name: 'snap-5xx' })).toHaveLength(0);
    expect(await h.client.listAttachments({ volumeId: id })).toHaveLength(0);
  });

  it('CreateVolume slower than the deadline → ABORTED; the retry returns the same volume', async () => {
    const slow = await startHarness({ emulator: { delayMs: 2500 } });
    try {
      const f = await failure(slow.rpc.CreateVolume(createReq('pvc-slow'), slow.ctx(1200)));
      expect(f.code).toBe(Code.ABORTED);
      expect(f.message).toMatch(/creating/);
      const [made] = await slow.client.listAllVolumes({ name: 'pvc-slow' });
      const res = await slow.rpc.CreateVolume(createReq('pvc-slow'), slow.ctx(10_000));
      expect(res.volume?.volume_id).toBe(made?.id);
      expect(await slow.client.listAllVolumes({ name: 'pvc-slow' })).toHaveLength(1);
      expect(slow.emu.stats().requests['POST /volumes']).toBe(1);
    } finally {
      await slow.stop();
    }
  });
});

describe('faults: Keystone token expiry', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ keystone: true });
  });
  afterAll(async () => h.stop());

  it('expired tokens are renewed once and every RPC carries on; no duplicate, no leak', async () => {
    const node = testNode();
    const created = await h.rpc.CreateVolume(createReq('pvc-token'), h.ctx());
    const id = created.volume?.volume_id ?? '';
    const authsBefore = h.emu.stats().keystoneRequests['POST /v3/auth/tokens'] ?? 0;
    h.emu.expireTokens();
    await h.rpc.ControllerPublishVolume(publishReq(id, node.id), h.ctx());
    h.emu.expireTokens();
    await h.rpc.ControllerUnpublishVolume(unpublishReq(id, node.id), h.ctx());
    h.emu.expireTokens();
    expect((await h.rpc.CreateVolume(createReq('pvc-token'), h.ctx())).volume?.volume_id).toBe(id);
    h.emu.expireTokens();
    await h.rpc.DeleteVolume({ volume_id: id, secrets: {} }, h.ctx());
    const auths = (h.emu.stats().keystoneRequests['POST /v3/auth/tokens'] ?? 0) - authsBefore;
    expect(auths).toBe(4);
    expect(await h.client.listAllVolumes({ name: 'pvc-token' })).toHaveLength(0);
    expect(h.logText()).not.toMatch(/csi-password/);
  });
});
