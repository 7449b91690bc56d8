import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultConfigError, validateFaultConfig } from './faults.js';
import { call, Cinder, emulator, keystoneToken, passwordAuth } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;

beforeAll(async () => {
  ({ emu } = await emulator({ keystonePort: 0, quotas: { volumes: 200 } }));
});
afterAll(() => emu.stop());
beforeEach(() => {
  emu.setFaults({});
  emu.resetStats();
});

async function memberCinder(): Promise<Cinder> {
  const r = await keystoneToken(emu, passwordAuth('csi', 'csi-password', 'csi'));
  return new Cinder(emu, '3.70', r.token);
}

describe('request faults', () => {
  it('latencyMs delays answers (global and per route add up)', async () => {
    const c = await memberCinder();
    // The route's delay is large, so that "not added to other routes" holds on a busy machine too.
    emu.setFaults({ latencyMs: 80, routes: { 'GET /volumes': { latencyMs: 600 } } });
    let t = performance.now();
    await c.get('/volumes');
    expect(performance.now() - t).toBeGreaterThanOrEqual(675);
    t = performance.now();
    await c.get('/types');
    const typesMs = performance.now() - t;
    expect(typesMs).toBeGreaterThanOrEqual(75);
    expect(typesMs).toBeLessThan(675);
    expect(emu.stats().faults.latency).toBe(2);
  });

  it('failNext fails exactly the next N matching requests, with the chosen status', async () => {
    const c = await memberCinder();
    emu.setFaults({ routes: { 'POST /volumes': { failNext: 2, errorStatus: 503 } } });
    const before = (await c.get('/volumes')).body.volumes.length as number;
    const r1 = await c.post('/volumes', { volume: { size: 1 } });
    expect(r1.status).toBe(503);
    expect(r1.body).toEqual({
      serviceUnavailable: { code: 503, message: 'The server is currently unavailable. Please try again at a later time.' },
    });
    expect((await c.post('/volumes', { volume: { size: 1 } })).status).toBe(503);
    expect((await c.post('/volumes', { volume: { size: 1 } })).status).toBe(202);
    expect((await c.get('/volumes')).body.volumes).toHaveLength(before + 1);
    expect(emu.stats().faults.error).toBe(2);
  });

  it('failNext without a status answers 500 computeFault; failed creates create nothing', async () => {
    const c = await memberCinder();
    const before = (await c.get('/volumes')).body.volumes.length as number;
    emu.setFaults({ failNext: 1 });
    const r = await c.post('/volumes', { volume: { size: 1 } });
    expect(r.status).toBe(500);
    expect(r.body.computeFault.code).toBe(500);
    expect((await c.get('/volumes')).body.volumes).toHaveLength(before);
  });

  it('errorRate 1 fails every matching request, 0 none', async () => {
    const c = await memberCinder();
    emu.setFaults({ routes: { 'GET /volumes/detail': { errorRate: 1 } } });
    for (let i = 0; i < 3; i++) expect((await c.get('/volumes/detail')).status).toBe(500);
    expect((await c.get('/volumes')).status).toBe(200);
    emu.setFaults({ routes: { 'GET /volumes/detail': { errorRate: 0 } } });
    expect((await c.get('/volumes/detail')).status).toBe(200);
  });

  it('hang leaves the next N requests unanswered', async () => {
    const c = await memberCinder();
    emu.setFaults({ routes: { 'GET /volumes': { hang: 1 } } });
    await expect(c.get('/volumes', { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect((await c.get('/volumes')).status).toBe(200);
    expect(emu.stats().faults.hang).toBe(1);
  });

  it('rateLimit answers 429 or 413 with Retry-After for the next N', async () => {
    const c = await memberCinder();
    emu.setFaults({ routes: { 'POST /volumes': { rateLimit: { count: 1, status: 429, retryAfterSeconds: 3 } }, 'GET /volumes': { rateLimit: { count: 1, status: 413, retryAfterSeconds: 2 } } } });
    const r = await c.post('/volumes', { volume: { size: 1 } });
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.body.overLimit.retryAfter).toBe('3');
    const g = await c.get('/volumes');
    expect(g.status).toBe(413);
    expect(g.headers.get('retry-after')).toBe('2');
    expect((await c.post('/volumes', { volume: { size: 1 } })).status).toBe(202);
    expect((await c.get('/volumes')).status).toBe(200);
  });

  it('loseReplyAfterCommit executes the request, then drops the connection', async () => {
    const c = await memberCinder();
    emu.setFaults({ routes: { 'POST /volumes': { loseReplyAfterCommit: 1 } } });
    await expect(c.post('/volumes', { volume: { size: 1, name: 'lost-reply' } })).rejects.toThrow();
    const found = await c.get('/volumes?name=lost-reply');
    expect(found.body.volumes).toHaveLength(1);
    expect((await c.post('/volumes', { volume: { size: 1, name: 'kept-reply' } })).status).toBe(202);
    expect(emu.stats().faults.loseReply).toBe(1);
  });

  it('matches "* /template" for every method and leaves other routes alone', async () => {
    const c = await memberCinder();
    const id = await c.volume();
    emu.setFaults({ routes: { '* /volumes/{id}': { failNext: 2 } } });
    expect((await c.get('/volumes')).status).toBe(200);
    expect((await c.get(`/volumes/${id}`)).status).toBe(500);
    expect((await c.put(`/volumes/${id}`, { volume: { name: 'x' } })).status).toBe(500);
    expect((await c.get(`/volumes/${id}`)).status).toBe(200);
  });

  it('faults Keystone routes only through explicit keys', async () => {
    emu.setFaults({ failNext: 5 });
    expect((await keystoneToken(emu, passwordAuth('csi', 'csi-password', 'csi'))).status).toBe(201);
    emu.setFaults({ routes: { 'POST /v3/auth/tokens': { failNext: 1 } } });
    const r = await keystoneToken(emu, passwordAuth('csi', 'csi-password', 'csi'));
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe(500);
  });

  it('tokenExpirySeconds makes Cinder reject tokens older than that', async () => {
    const c = await memberCinder();
    expect((await c.get('/volumes')).status).toBe(200);
    emu.setFaults({ tokenExpirySeconds: 0 });
    const r = await c.get('/volumes');
    expect(r.status).toBe(401);
    expect(emu.stats().faults.tokenExpiry).toBe(1);
    emu.setFaults({ tokenExpirySeconds: 3600 });
    expect((await c.get('/volumes')).status).toBe(200);
  });
});

describe('state faults', () => {
  it('stuck keeps volumes in creating until the fault is lifted', async () => {
    const c = await memberCinder();
    emu.setFaults({ stuck: { volumes: ['creating'] } });
    const r = await c.post('/volumes', { volume: { size: 1 } });
    await new Promise((res) => setTimeout(res, 100));
    expect((await c.get(`/volumes/${r.body.volume.id}`)).body.volume.status).toBe('creating');
    emu.setFaults({});
    await c.waitStatus('volumes', r.body.volume.id, 'available');
  });

  it('stuck: true also freezes extending and deleting; snapshots separately', async () => {
    const c = await memberCinder();
    const id = await c.volume();
    emu.setFaults({ stuck: { volumes: true, snapshots: ['creating'] } });
    await c.post(`/volumes/${id}/action`, { 'os-extend': { new_size: 2 } });
    await new Promise((res) => setTimeout(res, 80));
    expect((await c.get(`/volumes/${id}`)).body.volume.status).toBe('extending');
    emu.setFaults({ stuck: { snapshots: ['creating'] } });
    await c.waitStatus('volumes', id, 'available');
    const s = await c.post('/snapshots', { snapshot: { volume_id: id } });
    await new Promise((res) => setTimeout(res, 80));
    expect((await c.get(`/snapshots/${s.body.snapshot.id}`)).body.snapshot.status).toBe('creating');
    emu.setFaults({ stuck: { volumes: ['deleting'] } });
    await c.waitStatus('snapshots', s.body.snapshot.id, 'available');
    await c.del(`/snapshots/${s.body.snapshot.id}`);
    await c.waitGone('snapshots', s.body.snapshot.id);
    await c.del(`/volumes/${id}`);
    await new Promise((res) => setTimeout(res, 80));
    expect((await c.get(`/volumes/${id}`)).body.volume.status).toBe('deleting');
    emu.setFaults({});
    await c.waitGone('volumes', id);
  });

  it('errorOnCreate: N sends the next N volumes to error, then recovers', async () => {
    const c = await memberCinder();
    emu.setFaults({ errorOnCreate: { volumes: 1 } });
    const bad = await c.post('/volumes', { volume: { size: 1 } });
    await c.waitStatus('volumes', bad.body.volume.id, 'error');
    const good = await c.post('/volumes', { volume: { size: 1 } });
    await c.waitStatus('volumes', good.body.volume.id, 'available');
    emu.setFaults({ errorOnCreate: { snapshots: true } });
    const s = await c.post('/snapshots', { snapshot: { volume_id: good.body.volume.id } });
    await c.waitStatus('snapshots', s.body.snapshot.id, 'error');
  });

  it('errorOnExtend ends the extend in error_extending with the old size', async () => {
    const c = await memberCinder();
    const id = await c.volume();
    emu.setFaults({ errorOnExtend: true });
    await c.post(`/volumes/${id}/action`, { 'os-extend': { new_size: 5 } });
    const r = await c.waitStatus('volumes', id, 'error_extending');
    expect(r.body.volume.size).toBe(1);
  });
});

describe('admin routes', () => {
  it('reads and sets faults over HTTP; a bad configuration is 400 and changes nothing', async () => {
    const put = await call('PUT', `${emu.cinderUrl}/_emulator/faults`, { routes: { 'GET /types': { failNext: 1 } } });
    expect(put.status).toBe(200);
    expect((await call('GET', `${emu.cinderUrl}/_emulator/faults`)).body).toEqual({ routes: { 'GET /types': { failNext: 1 } } });
    const bad = await call('PUT', `${emu.cinderUrl}/_emulator/faults`, { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('errorRate');
    const c = await memberCinder();
    expect((await c.get('/types')).status).toBe(500);
    expect((await c.get('/types')).status).toBe(200);
  });

  it('serves stats per route template, resets them, and does not count itself', async () => {
    const c = await memberCinder();
    const id = await c.volume();
    await c.get(`/volumes/${id}`);
    const stats = (await call('GET', `${emu.cinderUrl}/_emulator/stats`)).body;
    expect(stats.requests['POST /volumes']).toBe(1);
    expect(stats.requests['GET /volumes/{id}']).toBeGreaterThanOrEqual(2);
    expect(stats.keystoneRequests['POST /v3/auth/tokens']).toBe(1);
    expect(Object.keys(stats.requests).some((k: string) => k.includes('_emulator') || k.includes(id))).toBe(false);
    expect(stats.transitions[id].map((t: { to: string }) => t.to)).toEqual(['creating', 'available']);
    expect((await call('POST', `${emu.cinderUrl}/_emulator/reset-stats`)).status).toBe(204);
    expect((await call('GET', `${emu.cinderUrl}/_emulator/stats`)).body.requests).toEqual({});
  });

  it('creates application credentials over HTTP', async () => {
    const r = await call('POST', `${emu.cinderUrl}/_emulator/application-credentials`, { user: 'csi', name: 'bench' });
    expect(r.status).toBe(201);
    const t = await keystoneToken(emu, {
      identity: { methods: ['application_credential'], application_credential: { id: r.body.id, secret: r.body.secret } },
    });
    expect(t.status).toBe(201);
  });
});

describe('validateFaultConfig', () => {
  it.each([
    [{ nope: 1 }, 'unknown fault "nope"'],
    [{ failNext: -1 }, 'failNext must be a non-negative integer'],
    [{ errorStatus: 404 }, 'errorStatus must be a 5xx status'],
    [{ routes: { 'volumes': {} } }, 'is not "METHOD /template"'],
    [{ rateLimit: { status: 500 } }, 'rateLimit.status must be 413 or 429'],
    [{ stuck: { volumes: ['attaching'] } }, '"attaching" is not one of'],
    [[], 'faults must be a JSON object'],
  ])('rejects %j', (cfg, message) => {
    expect(() => validateFaultConfig(cfg)).toThrow(FaultConfigError);
    expect(() => validateFaultConfig(cfg)).toThrow(message);
  });

  it('accepts a full configuration', () => {
    const cfg = {
      latencyMs: 5,
      routes: { 'POST /volumes': { failNext: 1, errorStatus: 503, hang: 2, rateLimit: { count: 1, status: 429, retryAfterSeconds: 1 }, loseReplyAfterCommit: 1 } },
      stuck: { volumes: ['creating'], snapshots: true },
      errorOnCreate: { volumes: 2 },
      errorOnExtend: true,
      tokenExpirySeconds: 10,
    };
    expect(validateFaultConfig(cfg)).toEqual(cfg);
  });
});
