import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;
let cinder: Cinder;

beforeAll(async () => {
  ({ emu, cinder } = await emulator({ delayMs: 30, quotas: { volumes: 100, snapshots: 100 } }));
});
afterAll(() => emu.stop());

describe('snapshots', () => {
  it('create: 202 creating, then available; GET adds the extended attributes', async () => {
    const vol = await cinder.volume({ size: 2 });
    const r = await cinder.at('3.44').post('/snapshots', {
      snapshot: { volume_id: vol, name: 'snap', description: 'd', force: false, metadata: { k: 'v' } },
    });
    expect(r.status).toBe(202);
    const s = r.body.snapshot;
    expect(s).toMatchObject({ status: 'creating', size: 2, volume_id: vol, name: 'snap', description: 'd', metadata: { k: 'v' }, updated_at: null });
    expect(s.group_snapshot_id).toBeNull();
    expect(s.user_id).toBe('admin');
    expect(s['os-extended-snapshot-attributes:project_id']).toBeUndefined();
    const done = await cinder.waitStatus('snapshots', s.id, 'available');
    expect(done.body.snapshot['os-extended-snapshot-attributes:project_id']).toBe(emu.projectId);
    expect(done.body.snapshot['os-extended-snapshot-attributes:progress']).toBe('100%');
    expect(done.body.snapshot.user_id).toBe('admin');
  });

  it('below 3.66 needs force=true for an in-use volume', async () => {
    const vol = await cinder.volume();
    await cinder.attach(vol);
    for (const body of [{ volume_id: vol }, { volume_id: vol, force: false }]) {
      const r = await cinder.at('3.65').post('/snapshots', { snapshot: body });
      expect(r.status).toBe(400);
      expect(r.body.badRequest.message).toBe(
        `Invalid volume: Volume ${vol} status must be available, but current status is: in-use.`,
      );
    }
    const forced = await cinder.at('3.65').post('/snapshots', { snapshot: { volume_id: vol, force: true } });
    expect(forced.status).toBe(202);
    const forcedString = await cinder.at('3.44').post('/snapshots', { snapshot: { volume_id: vol, force: 'True' } });
    expect(forcedString.status).toBe(202);
  });

  it('from 3.66 takes in-use volumes without force, ignores force=true and rejects force=false', async () => {
    const vol = await cinder.volume();
    await cinder.attach(vol);
    expect((await cinder.at('3.66').post('/snapshots', { snapshot: { volume_id: vol } })).status).toBe(202);
    expect((await cinder.at('3.66').post('/snapshots', { snapshot: { volume_id: vol, force: true } })).status).toBe(202);
    const r = await cinder.at('3.66').post('/snapshots', { snapshot: { volume_id: vol, force: false } });
    expect(r.status).toBe(400);
    expect(r.body.badRequest.message).toContain("Since microversion 3.66 the 'force' flag is invalid for this request.");
  });

  it('refuses volumes that are not available/in-use and unknown volumes', async () => {
    const r = await cinder.post('/volumes', { volume: { size: 1 } });
    const creating = await cinder.post('/snapshots', { snapshot: { volume_id: r.body.volume.id } });
    expect(creating.status).toBe(400);
    expect(creating.body.badRequest.message).toContain('current status is: creating.');
    const unknown = await cinder.post('/snapshots', { snapshot: { volume_id: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.status).toBe(404);
    const missing = await cinder.post('/snapshots', { snapshot: { name: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.badRequest.message).toContain("'volume_id' is a required property");
  });

  it('delete: 202 empty, deleting, gone; refused while creating', async () => {
    const vol = await cinder.volume();
    const created = await cinder.post('/snapshots', { snapshot: { volume_id: vol } });
    const busy = await cinder.del(`/snapshots/${created.body.snapshot.id}`);
    expect(busy.status).toBe(400);
    expect(busy.body.badRequest.message).toBe(
      'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.',
    );
    await cinder.waitStatus('snapshots', created.body.snapshot.id, 'available');
    const r = await cinder.del(`/snapshots/${created.body.snapshot.id}`);
    expect(r.status).toBe(202);
    expect(r.text).toBe('');
    expect((await cinder.get(`/snapshots/${created.body.snapshot.id}`)).body.snapshot.status).toBe('deleting');
    await cinder.waitGone('snapshots', created.body.snapshot.id);
    const t = emu.stats().transitions[created.body.snapshot.id]?.map((x) => x.to);
    expect(t).toEqual(['creating', 'available', 'deleting', 'deleted']);
  });

  it('has metadata endpoints', async () => {
    const vol = await cinder.volume();
    const s = await cinder.snapshot(vol, { metadata: { a: '1' } });
    expect((await cinder.post(`/snapshots/${s}/metadata`, { metadata: { b: '2' } })).body.metadata).toEqual({ a: '1', b: '2' });
    expect((await cinder.get(`/snapshots/${s}/metadata/a`)).body).toEqual({ meta: { a: '1' } });
  });
});
