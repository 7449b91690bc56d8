import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

const DELAY = 60;
let emu: RunningEmulator;
let cinder: Cinder;

beforeAll(async () => {
  ({ emu, cinder } = await emulator({ delayMs: DELAY, zones: ['zone-a', 'zone-b'], quotas: { volumes: 100, snapshots: 100 } }));
});
afterAll(() => emu.stop());

describe('volume lifecycle', () => {
  it('creates: 202 creating, available after the delay, with a sparse file of the right size', async () => {
    const r = await cinder.post('/volumes', { volume: { size: 2, name: 'v1', description: 'd', metadata: { a: 'b' } } });
    expect(r.status).toBe(202);
    const v = r.body.volume;
    expect(v).toMatchObject({
      status: 'creating',
      size: 2,
      name: 'v1',
      description: 'd',
      metadata: { a: 'b' },
      volume_type: '__DEFAULT__',
      availability_zone: 'zone-a',
      attachments: [],
      multiattach: false,
      bootable: 'false',
      encrypted: false,
      updated_at: null,
    });
    expect(v.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(v.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    expect(v['os-vol-host-attr:host']).toBeUndefined();
    expect((await cinder.get(`/volumes/${v.id}`)).body.volume.status).toBe('creating');
    await cinder.waitStatus('volumes', v.id, 'available');
    const t = emu.stats().transitions[v.id] ?? [];
    expect(t.map((x) => x.to)).toEqual(['creating', 'available']);
    expect((t[1]?.at ?? 0) - (t[0]?.at ?? 0)).toBeGreaterThanOrEqual(DELAY - 5);
    const st = await stat(`${emu.stateDir}/volume-${v.id}`);
    expect(st.size).toBe(2 * 1024 ** 3);
    expect(st.blocks * 512).toBeLessThan(1024 * 1024);
  });

  it('shows admin attributes and microversion fields', async () => {
    const id = await cinder.volume();
    const at70 = (await cinder.get(`/volumes/${id}`)).body.volume;
    expect(at70['os-vol-tenant-attr:tenant_id']).toBe(emu.projectId);
    expect(at70['os-vol-host-attr:host']).toBe('cinder-emulator@local#local');
    expect(at70).toHaveProperty('shared_targets');
    expect(at70.volume_type_id).toMatch(/^[0-9a-f-]{36}$/);
    const at30 = (await cinder.at('3.0').get(`/volumes/${id}`)).body.volume;
    expect(at30).not.toHaveProperty('group_id');
    expect(at30).not.toHaveProperty('shared_targets');
  });

  it('deletes: 202 empty text/html, deleting, then 404', async () => {
    const id = await cinder.volume();
    const r = await cinder.del(`/volumes/${id}`);
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
    expect(r.headers.get('content-type')).toContain('text/html');
    expect((await cinder.get(`/volumes/${id}`)).body.volume.status).toBe('deleting');
    await cinder.waitGone('volumes', id);
    const gone = await cinder.get(`/volumes/${id}`);
    expect(gone.body).toEqual({ itemNotFound: { code: 404, message: `Volume ${id} could not be found.` } });
    await expect(stat(`${emu.stateDir}/volume-${id}`)).rejects.toThrow();
  });

  it('refuses to delete an in-use volume or one with snapshots; cascade deletes both', async () => {
    const msg =
      'Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.';
    const used = await cinder.volume();
    await cinder.attach(used);
    const r1 = await cinder.del(`/volumes/${used}`);
    expect(r1.status).toBe(400);
    expect(r1.body).toEqual({ badRequest: { code: 400, message: msg } });

    const withSnap = await cinder.volume();
    const snap = await cinder.snapshot(withSnap);
    const r2 = await cinder.del(`/volumes/${withSnap}`);
    expect(r2.status).toBe(400);
    expect(r2.body.badRequest.message).toBe(msg);
    expect((await cinder.del(`/volumes/${withSnap}?cascade=true`)).status).toBe(202);
    await cinder.waitGone('volumes', withSnap);
    expect((await cinder.get(`/snapshots/${snap}`)).status).toBe(404);
  });
});

describe('create validation', () => {
  it('rejects size 0, a missing volume key and non-JSON bodies with the real messages', async () => {
    const zero = await cinder.post('/volumes', { volume: { size: 0 } });
    expect(zero.status).toBe(400);
    expect(zero.body.badRequest.message).toBe(
      'Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1',
    );
    const missing = await cinder.post('/volumes', { size: 1 });
    expect(missing.body).toEqual({ badRequest: { code: 400, message: "'volume' is a required property" } });
    const garbage = await cinder.post('/volumes', undefined, { rawBody: '{not json' });
    expect(garbage.body).toEqual({ badRequest: { code: 400, message: 'Malformed request body' } });
    const noSize = await cinder.post('/volumes', { volume: { name: 'x' } });
    expect(noSize.status).toBe(400);
  });

  it('finds types by name or id; an unknown type is 404', async () => {
    const types = (await cinder.get('/types')).body.volume_types as Array<{ id: string; name: string }>;
    expect(types.map((t) => t.name)).toEqual(
      expect.arrayContaining(['__DEFAULT__', 'local', 'iscsi', 'rbd', 'multiattach']),
    );
    const iscsi = types.find((t) => t.name === 'iscsi');
    const byId = await cinder.post('/volumes', { volume: { size: 1, volume_type: iscsi?.id } });
    expect(byId.body.volume.volume_type).toBe('iscsi');
    const byName = await cinder.post('/volumes', { volume: { size: 1, volume_type: 'rbd' } });
    expect(byName.body.volume.volume_type).toBe('rbd');
    const nope = await cinder.post('/volumes', { volume: { size: 1, volume_type: 'nope' } });
    expect(nope.status).toBe(404);
    expect(nope.body.itemNotFound.message).toBe('Volume type with name nope could not be found.');
  });

  it('takes availability zones from the configured list', async () => {
    const b = await cinder.post('/volumes', { volume: { size: 1, availability_zone: 'zone-b' } });
    expect(b.body.volume.availability_zone).toBe('zone-b');
    const bad = await cinder.post('/volumes', { volume: { size: 1, availability_zone: 'nova' } });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toBe("Availability zone 'nova' is invalid.");
    const zones = (await cinder.get('/os-availability-zone')).body.availabilityZoneInfo;
    expect(zones).toEqual([
      { zoneName: 'zone-a', zoneState: { available: true } },
      { zoneName: 'zone-b', zoneState: { available: true } },
    ]);
  });

  it('makes volumes of a multiattach type multiattach', async () => {
    const r = await cinder.post('/volumes', { volume: { size: 1, volume_type: 'multiattach' } });
    expect(r.body.volume.multiattach).toBe(true);
  });

  it('restores from a snapshot only into a size >= the snapshot size, and 404s an unknown snapshot', async () => {
    const vol = await cinder.volume({ size: 2 });
    const snap = await cinder.snapshot(vol);
    const small = await cinder.post('/volumes', { volume: { size: 1, snapshot_id: snap } });
    expect(small.status).toBe(400);
    expect(small.body.badRequest.message).toContain('cannot be smaller than the snapshot size 2GB');
    const ok = await cinder.post('/volumes', { volume: { snapshot_id: snap } });
    expect(ok.status).toBe(202);
    expect(ok.body.volume).toMatchObject({ size: 2, snapshot_id: snap });
    const unknown = await cinder.post('/volumes', { volume: { size: 1, snapshot_id: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.itemNotFound.message).toBe('Snapshot 00000000-0000-4000-8000-000000000000 could not be found.');
  });
});

describe('extend', () => {
  it('goes extending, then back to available with the new size', async () => {
    const id = await cinder.volume();
    const r = await cinder.post(`/volumes/${id}/action`, { 'os-extend': { new_size: 3 } });
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
    expect((await cinder.get(`/volumes/${id}`)).body.volume).toMatchObject({ status: 'extending', size: 1 });
    const done = await cinder.waitStatus('volumes', id, 'available');
    expect(done.body.volume.size).toBe(3);
    expect((await stat(`${emu.stateDir}/volume-${id}`)).size).toBe(3 * 1024 ** 3);
    expect(emu.stats().actions['os-extend']).toBeGreaterThanOrEqual(1);
  });

  it('rejects a smaller size and a missing new_size', async () => {
    const id = await cinder.volume({ size: 2 });
    const smaller = await cinder.post(`/volumes/${id}/action`, { 'os-extend': { new_size: 1 } });
    expect(smaller.status).toBe(400);
    expect(smaller.body.badRequest.message).toBe(
      'Invalid input received: New size for extend must be greater than current size. (current: 2, extended: 1).',
    );
    const missing = await cinder.post(`/volumes/${id}/action`, { 'os-extend': {} });
    expect(missing.status).toBe(400);
    expect(missing.body.badRequest.message).toContain("'new_size' is a required property");
  });

  it('extends in-use volumes only from 3.42', async () => {
    const id = await cinder.volume();
    await cinder.attach(id);
    const old = await cinder.at('3.41').post(`/volumes/${id}/action`, { 'os-extend': { new_size: 2 } });
    expect(old.status).toBe(400);
    expect(old.body.badRequest.message).toBe(
      `Invalid volume: Volume ${id} status must be '{'status': 'available'}' to extend, currently in-use.`,
    );
    const ok = await cinder.at('3.42').post(`/volumes/${id}/action`, { 'os-extend': { new_size: 2 } });
    expect(ok.status).toBe(202);
    const done = await cinder.waitStatus('volumes', id, 'in-use');
    expect(done.body.volume.size).toBe(2);
  });

  it('answers unknown actions and malformed action bodies like Cinder', async () => {
    const id = await cinder.volume();
    const unknown = await cinder.post(`/volumes/${id}/action`, { 'os-nope': {} });
    expect(unknown.body).toEqual({ badRequest: { code: 400, message: 'There is no such action: os-nope' } });
    const two = await cinder.post(`/volumes/${id}/action`, { 'os-extend': { new_size: 2 }, other: 1 });
    expect(two.body.badRequest.message).toBe('Malformed request body');
  });
});

describe('metadata and update', () => {
  it('merges with POST, replaces with PUT, and serves single keys', async () => {
    const id = await cinder.volume({ metadata: { a: '1' } });
    expect((await cinder.post(`/volumes/${id}/metadata`, { metadata: { b: '2' } })).body.metadata).toEqual({ a: '1', b: '2' });
    expect((await cinder.get(`/volumes/${id}/metadata`)).body.metadata).toEqual({ a: '1', b: '2' });
    expect((await cinder.get(`/volumes/${id}/metadata/b`)).body).toEqual({ meta: { b: '2' } });
    expect((await cinder.put(`/volumes/${id}/metadata`, { metadata: { c: '3' } })).body.metadata).toEqual({ c: '3' });
    expect((await cinder.get(`/volumes/${id}/metadata/a`)).status).toBe(404);
    expect((await cinder.del(`/volumes/${id}/metadata/c`)).status).toBe(200);
    expect((await cinder.get(`/volumes/${id}`)).body.volume.metadata).toEqual({});
  });

  it('renames with PUT /volumes/{id}', async () => {
    const id = await cinder.volume({ name: 'before' });
    const r = await cinder.put(`/volumes/${id}`, { volume: { name: 'after' } });
    expect(r.status).toBe(200);
    expect((await cinder.get(`/volumes/${id}`)).body.volume.name).toBe('after');
  });
});

describe('admin actions', () => {
  it('os-reset_status sets the status and, with attach_status detached, drops attachments', async () => {
    const id = await cinder.volume();
    await cinder.attach(id);
    const r = await cinder.post(`/volumes/${id}/action`, { 'os-reset_status': { status: 'available', attach_status: 'detached' } });
    expect(r.status).toBe(202);
    const v = (await cinder.get(`/volumes/${id}`)).body.volume;
    expect(v.status).toBe('available');
    expect(v.attachments).toEqual([]);
    expect((await cinder.get(`/attachments?volume_id=${id}`)).body.attachments).toEqual([]);
  });
});
