import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;
let cinder: Cinder;

beforeAll(async () => {
  ({ emu, cinder } = await emulator());
});
afterAll(() => emu.stop());

describe('quotas', () => {
  it('starts from Cinder’s defaults and reports usage', async () => {
    const r = await cinder.get(`/os-quota-sets/${emu.projectId}?usage=true`);
    expect(r.status).toBe(200);
    expect(r.body.quota_set.id).toBe(emu.projectId);
    expect(r.body.quota_set.volumes).toEqual({ limit: 10, in_use: 0, reserved: 0 });
    expect(r.body.quota_set.gigabytes.limit).toBe(1000);
    const plain = await cinder.get(`/os-quota-sets/${emu.projectId}`);
    expect(plain.body.quota_set.snapshots).toBe(10);
  });

  it('answers 413 overLimit with Retry-After 0 for the volume count', async () => {
    const put = await cinder.put(`/os-quota-sets/${emu.projectId}`, { quota_set: { volumes: 2, gigabytes: 20 } });
    expect(put.status).toBe(200);
    expect(put.body.quota_set.volumes).toBe(2);
    await cinder.volume();
    await cinder.volume({ size: 9 });
    const r = await cinder.post('/volumes', { volume: { size: 1 } });
    expect(r.status).toBe(413);
    expect(r.headers.get('retry-after')).toBe('0');
    expect(r.body).toEqual({
      overLimit: {
        code: 413,
        message: "VolumeLimitExceeded: Maximum number of volumes allowed (2) exceeded for quota 'volumes'.",
        retryAfter: '0',
      },
    });
    const usage = await cinder.get(`/os-quota-sets/${emu.projectId}?usage=true`);
    expect(usage.body.quota_set.volumes.in_use).toBe(2);
    expect(usage.body.quota_set.gigabytes.in_use).toBe(10);
  });

  it('answers 413 for gigabytes with the consumed amount', async () => {
    await cinder.put(`/os-quota-sets/${emu.projectId}`, { quota_set: { volumes: 10 } });
    const r = await cinder.post('/volumes', { volume: { size: 50 } });
    expect(r.status).toBe(413);
    expect(r.headers.get('retry-after')).toBe('0');
    expect(r.body.overLimit.message).toBe(
      'VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested 50G, quota is 20G and 10G has been consumed.',
    );
  });

  it('counts snapshots (and their gigabytes)', async () => {
    await cinder.put(`/os-quota-sets/${emu.projectId}`, { quota_set: { snapshots: 1, gigabytes: 100 } });
    const vol = await cinder.volume();
    await cinder.snapshot(vol);
    const r = await cinder.post('/snapshots', { snapshot: { volume_id: vol } });
    expect(r.status).toBe(413);
    expect(r.body.overLimit.message).toBe('SnapshotLimitExceeded: Maximum number of snapshots allowed (1) exceeded');
    expect(r.headers.get('retry-after')).toBe('0');
  });

  it('reports limits', async () => {
    const r = await cinder.get('/limits');
    expect(r.body.limits.rate).toEqual([]);
    expect(r.body.limits.absolute).toMatchObject({ maxTotalVolumes: 10, totalVolumesUsed: 3, maxTotalVolumeGigabytes: 100, totalGigabytesUsed: 12 });
  });

  it('rejects bad quota keys', async () => {
    const r = await cinder.put(`/os-quota-sets/${emu.projectId}`, { quota_set: { nope: 1 } });
    expect(r.status).toBe(400);
    expect(r.body.badRequest.message).toBe('Bad key(s) in quota set: nope');
  });

  it('takes default quotas from the options', async () => {
    const { emu: other, cinder: c } = await emulator({ quotas: { volumes: 1 } });
    try {
      await c.volume();
      expect((await c.post('/volumes', { volume: { size: 1 } })).status).toBe(413);
    } finally {
      await other.stop();
    }
  });
});
