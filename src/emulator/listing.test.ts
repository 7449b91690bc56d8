import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;
let cinder: Cinder;
const ids: string[] = [];

beforeAll(async () => {
  ({ emu, cinder } = await emulator({ quotas: { volumes: 50 } }));
  for (let i = 0; i < 4; i++) {
    ids.push(await cinder.volume({ name: `vol-${i}`, metadata: { idx: String(i), group: i % 2 === 0 ? 'even' : 'odd' } }));
  }
});
afterAll(() => emu.stop());

describe('paging', () => {
  it('lists newest first with summary entries', async () => {
    const r = await cinder.get('/volumes');
    expect(r.body.volumes.map((v: { id: string }) => v.id)).toEqual([...ids].reverse());
    expect(Object.keys(r.body.volumes[0]).sort()).toEqual(['id', 'links', 'name']);
    expect(r.body.volumes_links).toBeUndefined();
  });

  it('pages with limit/marker; a full last page has a next link and the page after it is empty', async () => {
    const p1 = await cinder.get('/volumes/detail?limit=2');
    expect(p1.body.volumes.map((v: { id: string }) => v.id)).toEqual([ids[3], ids[2]]);
    const next1 = p1.body.volumes_links[0];
    expect(next1.rel).toBe('next');
    expect(next1.href).toBe(`${emu.cinderEndpoint}/volumes/detail?limit=2&marker=${ids[2]}`);
    expect(p1.body.volumes[0].status).toBe('available');

    const p2 = await cinder.get(next1.href.slice(emu.cinderEndpoint.length));
    expect(p2.body.volumes.map((v: { id: string }) => v.id)).toEqual([ids[1], ids[0]]);
    expect(p2.body.volumes_links[0].href).toContain(`marker=${ids[0]}`);

    const p3 = await cinder.get(`/volumes/detail?limit=2&marker=${ids[0]}`);
    expect(p3.status).toBe(200);
    expect(p3.body).toEqual({ volumes: [] });
  });

  it('answers 404 for an unknown marker and 400 for a bad limit', async () => {
    const m = '11111111-1111-4111-8111-111111111111';
    const r = await cinder.get(`/volumes?marker=${m}`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ itemNotFound: { code: 404, message: `Volume ${m} could not be found.` } });
    const bad = await cinder.get('/volumes?limit=abc');
    expect(bad.body).toEqual({ badRequest: { code: 400, message: 'limit param must be an integer' } });
    expect((await cinder.get('/volumes?limit=-1')).body.badRequest.message).toBe('limit param must be positive');
  });

  it('sorts on request', async () => {
    const r = await cinder.get('/volumes?sort=name:asc');
    expect(r.body.volumes.map((v: { name: string }) => v.name)).toEqual(['vol-0', 'vol-1', 'vol-2', 'vol-3']);
  });
});

describe('filters', () => {
  it('filters by name, status and metadata (JSON-encoded dict)', async () => {
    expect((await cinder.get('/volumes?name=vol-2')).body.volumes.map((v: { id: string }) => v.id)).toEqual([ids[2]]);
    expect((await cinder.get('/volumes?status=available')).body.volumes).toHaveLength(4);
    expect((await cinder.get('/volumes?status=error')).body.volumes).toHaveLength(0);
    const meta = encodeURIComponent(JSON.stringify({ group: 'odd' }));
    const odd = await cinder.get(`/volumes/detail?metadata=${meta}`);
    expect(odd.body.volumes.map((v: { id: string }) => v.id)).toEqual([ids[3], ids[1]]);
    const both = encodeURIComponent(JSON.stringify({ group: 'odd', idx: '1' }));
    expect((await cinder.get(`/volumes?metadata=${both}`)).body.volumes.map((v: { id: string }) => v.id)).toEqual([ids[1]]);
  });

  it('keeps filters in the next link', async () => {
    const r = await cinder.get('/volumes?status=available&limit=1');
    expect(r.body.volumes_links[0].href).toBe(`${emu.cinderEndpoint}/volumes?status=available&limit=1&marker=${ids[3]}`);
  });

  it('treats with_count as an unknown filter below 3.45 (empty list) and counts from 3.45', async () => {
    const old = await cinder.at('3.44').get('/volumes?with_count=true');
    expect(old.status).toBe(200);
    expect(old.body).toEqual({ volumes: [] });
    const neu = await cinder.at('3.45').get('/volumes?with_count=true&limit=1');
    expect(neu.body.count).toBe(4);
    expect(neu.body.volumes).toHaveLength(1);
    expect((await cinder.at('3.45').get('/volumes')).body.count).toBeUndefined();
  });

  it('answers an admin’s unknown query parameter with an empty list', async () => {
    expect((await cinder.at('3.44').get('/volumes?foo=bar')).body).toEqual({ volumes: [] });
  });

  it('filters updated_at with operators from 3.60', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString().slice(0, 19);
    const past = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19);
    expect((await cinder.at('3.60').get(`/volumes?updated_at=gt:${past}`)).body.volumes).toHaveLength(4);
    expect((await cinder.at('3.60').get(`/volumes?updated_at=gt:${future}`)).body.volumes).toHaveLength(0);
    // units are ORed; applied from 3.31 like the real (Zed) server, dropped below
    expect((await cinder.at('3.60').get(`/volumes?created_at=gt:${future},lt:${future}`)).body.volumes).toHaveLength(4);
    expect((await cinder.at('3.31').get(`/volumes?updated_at=gt:${future}`)).body.volumes).toHaveLength(0);
    expect((await cinder.at('3.30').get(`/volumes?updated_at=gt:${future}`)).body.volumes).toHaveLength(4);
    const bad = await cinder.at('3.60').get('/volumes?updated_at=after:2024-01-01T00:00:00');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ badRequest: { code: 400, message: 'Invalid after operator' } });
  });
});

describe('snapshot listing', () => {
  it('pages and filters by volume_id, name and status', async () => {
    const s1 = await cinder.snapshot(ids[0] ?? '', { name: 's1' });
    const s2 = await cinder.snapshot(ids[0] ?? '', { name: 's2' });
    const s3 = await cinder.snapshot(ids[1] ?? '', { name: 's3' });
    const byVol = await cinder.get(`/snapshots?volume_id=${ids[0]}`);
    expect(byVol.body.snapshots.map((s: { id: string }) => s.id)).toEqual([s2, s1]);
    expect((await cinder.get('/snapshots?name=s3')).body.snapshots.map((s: { id: string }) => s.id)).toEqual([s3]);
    expect((await cinder.get('/snapshots?status=available')).body.snapshots).toHaveLength(3);
    const page = await cinder.get('/snapshots/detail?limit=3');
    expect(page.body.snapshots).toHaveLength(3);
    expect(page.body.snapshots_links[0].href).toBe(`${emu.cinderEndpoint}/snapshots/detail?limit=3&marker=${s1}`);
    expect(page.body.snapshots[0]['os-extended-snapshot-attributes:progress']).toBe('100%');
    expect((await cinder.get(`/snapshots?limit=3&marker=${s1}`)).body).toEqual({ snapshots: [] });
  });
});
