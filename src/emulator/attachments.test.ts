import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;
let cinder: Cinder;
const connector = { initiator: 'iqn.2004-10.com.ubuntu:01:abc', ip: '10.0.0.5', host: 'node-1', multipath: false, platform: 'x86_64', os_type: 'linux' };

beforeAll(async () => {
  ({ emu, cinder } = await emulator({ quotas: { volumes: 100 } }));
});
afterAll(() => emu.stop());

describe('attachments', () => {
  it('do not exist below 3.27', async () => {
    for (const v of ['3.0', '3.26']) {
      const r = await cinder.at(v).get('/attachments');
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ itemNotFound: { code: 404, message: 'The resource could not be found.' } });
    }
    expect((await cinder.at('3.27').get('/attachments')).status).toBe(200);
  });

  it('reserve without a connector: 200, reserved, empty connection_info, string "null" mode', async () => {
    const vol = await cinder.volume();
    const r = await cinder.at('3.44').post('/attachments', { attachment: { volume_uuid: vol } });
    expect(r.status).toBe(200);
    expect(r.body.attachment).toMatchObject({
      status: 'reserved',
      instance: null,
      volume_id: vol,
      attached_at: '',
      detached_at: '',
      attach_mode: 'null',
      connection_info: {},
    });
    expect((await cinder.get(`/volumes/${vol}`)).body.volume.status).toBe('reserved');
  });

  it('with a connector: flat local connection_info at once, attaching, then in-use after os-complete', async () => {
    const vol = await cinder.volume();
    const r = await cinder.at('3.44').post('/attachments', { attachment: { volume_uuid: vol, connector } });
    expect(r.status).toBe(200);
    const a = r.body.attachment;
    expect(a.status).toBe('reserved');
    expect(a.connection_info).toEqual({
      driver_volume_type: 'local',
      device_path: `${emu.stateDir}/volume-${vol}`,
      volume_id: vol,
      attachment_id: a.id,
      qos_specs: null,
      access_mode: 'rw',
      cacheable: false,
      encrypted: false,
    });
    const shown = (await cinder.get(`/attachments/${a.id}`)).body.attachment;
    expect(shown.status).toBe('attaching');
    expect(shown.attached_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await cinder.get(`/volumes/${vol}`)).body.volume.status).toBe('attaching');

    for (let i = 0; i < 2; i++) {
      const c = await cinder.at('3.44').post(`/attachments/${a.id}/action`, { 'os-complete': null });
      expect(c.status).toBe(204);
    }
    const v = (await cinder.get(`/volumes/${vol}`)).body.volume;
    expect(v.status).toBe('in-use');
    expect(v.attachments).toEqual([
      { id: vol, attachment_id: a.id, volume_id: vol, server_id: null, host_name: 'node-1', device: 'na', attached_at: shown.attached_at },
    ]);
    expect((await cinder.get(`/attachments/${a.id}`)).body.attachment.status).toBe('attached');
  });

  it('os-complete needs 3.44', async () => {
    const vol = await cinder.volume();
    const a = (await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector } })).body.attachment;
    expect((await cinder.at('3.43').post(`/attachments/${a.id}/action`, { 'os-complete': null })).status).toBe(404);
  });

  it('refuses a second attachment on a non-multiattach volume', async () => {
    const vol = await cinder.volume();
    await cinder.attach(vol);
    const r = await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector: { ...connector, host: 'node-2' } } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      badRequest: {
        code: 400,
        message: `Invalid volume: Volume ${vol} status must be available or downloading to reserve, but the current status is in-use.`,
      },
    });
    const pending = await cinder.volume();
    await cinder.post('/attachments', { attachment: { volume_uuid: pending } });
    const again = await cinder.post('/attachments', { attachment: { volume_uuid: pending } });
    expect(again.body.badRequest.message).toContain('but the current status is reserved.');
  });

  it('allows several attachments on a multiattach volume; DELETE returns the remaining ones', async () => {
    const vol = await cinder.volume({ volume_type: 'multiattach' });
    const a1 = await cinder.attach(vol, { ...connector, host: 'node-1' });
    const a2 = await cinder.attach(vol, { ...connector, host: 'node-2' });
    const v = (await cinder.get(`/volumes/${vol}`)).body.volume;
    expect(v.multiattach).toBe(true);
    expect(v.attachments.map((x: { host_name: string }) => x.host_name).sort()).toEqual(['node-1', 'node-2']);
    const listed = await cinder.get(`/attachments?volume_id=${vol}`);
    expect(listed.body.attachments.map((x: { id: string }) => x.id).sort()).toEqual([a1, a2].sort());
    const d1 = await cinder.del(`/attachments/${a1}`);
    expect(d1.status).toBe(200);
    expect(d1.body).toEqual({ attachments: [{ id: a2, status: 'attached', instance: null, volume_id: vol }] });
    expect((await cinder.get(`/volumes/${vol}`)).body.volume.status).toBe('in-use');
    const d2 = await cinder.del(`/attachments/${a2}`);
    expect(d2.body).toEqual({ attachments: [] });
    expect((await cinder.get(`/volumes/${vol}`)).body.volume.status).toBe('available');
  });

  it('rejects mode at 3.44 and accepts it at 3.54', async () => {
    const vol = await cinder.volume();
    const old = await cinder.at('3.44').post('/attachments', { attachment: { volume_uuid: vol, connector, mode: 'ro' } });
    expect(old.status).toBe(400);
    expect(old.body.badRequest.message).toContain("Additional properties are not allowed ('mode' was unexpected)");
    const neu = await cinder.at('3.54').post('/attachments', { attachment: { volume_uuid: vol, connector, mode: 'ro' } });
    expect(neu.status).toBe(200);
    expect(neu.body.attachment.attach_mode).toBe('ro');
    expect(neu.body.attachment.connection_info.access_mode).toBe('rw');
  });

  it('validates the body like the schema does', async () => {
    const r = await cinder.post('/attachments', { attachment: { volume_uuid: 'not-a-uuid' } });
    expect(r.status).toBe(400);
    expect(r.body.badRequest.message).toContain("'not-a-uuid' is not a 'uuid'");
    const unknown = await cinder.post('/attachments', { attachment: { volume_uuid: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.status).toBe(404);
  });

  it('PUT fills connection_info for a reserved attachment; an empty body is 400', async () => {
    const vol = await cinder.volume();
    const a = (await cinder.post('/attachments', { attachment: { volume_uuid: vol } })).body.attachment;
    const put = await cinder.put(`/attachments/${a.id}`, { attachment: { connector } });
    expect(put.status).toBe(200);
    expect(put.body.attachment.status).toBe('reserved');
    expect(put.body.attachment.connection_info.driver_volume_type).toBe('local');
    expect((await cinder.get(`/volumes/${vol}`)).body.volume.status).toBe('attaching');
    const empty = await cinder.put(`/attachments/${a.id}`, { attachment: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.badRequest.message).toContain("'connector' is a required property");
  });

  it('DELETE of an unknown attachment is 404 with the real message', async () => {
    const id = '22222222-2222-4222-8222-222222222222';
    const r = await cinder.del(`/attachments/${id}`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      itemNotFound: { code: 404, message: `Volume attachment could not be found with filter: attachment_id = ${id}.` },
    });
  });

  it('DELETE of an attachment with instance_uuid and connection_info is a 500 (no Nova); reset_status cleans up', async () => {
    const vol = await cinder.volume();
    const r = await cinder.post('/attachments', {
      attachment: { volume_uuid: vol, connector, instance_uuid: '33333333-3333-4333-8333-333333333333' },
    });
    expect(r.body.attachment.instance).toBe('33333333-3333-4333-8333-333333333333');
    const d = await cinder.del(`/attachments/${r.body.attachment.id}`);
    expect(d.status).toBe(500);
    expect(d.body).toEqual({
      computeFault: {
        code: 500,
        message: 'The server has either erred or is incapable of performing the requested operation.',
      },
    });
    await cinder.post(`/volumes/${vol}/action`, { 'os-reset_status': { status: 'available', attach_status: 'detached' } });
    expect((await cinder.get(`/attachments/${r.body.attachment.id}`)).status).toBe(404);
    // Without a connector there is no connection_info, so the Nova check does not apply.
    const reserved = await cinder.post('/attachments', {
      attachment: { volume_uuid: vol, instance_uuid: '33333333-3333-4333-8333-333333333333' },
    });
    expect((await cinder.del(`/attachments/${reserved.body.attachment.id}`)).status).toBe(200);
  });
});

describe('connection_info per backend', () => {
  it('iscsi: LVM+tgt shape with per-attachment CHAP', async () => {
    const vol = await cinder.volume({ volume_type: 'iscsi' });
    const a = (await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector } })).body.attachment;
    const ci = a.connection_info;
    expect(ci).toMatchObject({
      driver_volume_type: 'iscsi',
      target_discovered: false,
      target_portal: '127.0.0.1:3260',
      target_iqn: `iqn.2010-10.org.openstack:volume-${vol}`,
      target_lun: 1,
      volume_id: vol,
      auth_method: 'CHAP',
      encrypted: false,
      qos_specs: null,
      access_mode: 'rw',
      cacheable: false,
      attachment_id: a.id,
    });
    expect(ci.auth_username).toMatch(/^\w{20}$/);
    expect(ci.auth_password).toMatch(/^\w{16}$/);
    expect(ci.target_portals).toBeUndefined();
    expect(ci.discovery_auth_method).toBeUndefined();
    await cinder.del(`/attachments/${a.id}`);
    const again = (await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector } })).body.attachment;
    expect(again.connection_info.auth_password).not.toBe(ci.auth_password);
  });

  it('iscsi with multipath: two portals', async () => {
    const vol = await cinder.volume({ volume_type: 'iscsi' });
    const a = (await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector: { ...connector, multipath: true } } })).body
      .attachment;
    const iqn = `iqn.2010-10.org.openstack:volume-${vol}`;
    expect(a.connection_info.target_portals).toEqual(['127.0.0.1:3260', '127.0.0.2:3260']);
    expect(a.connection_info.target_iqns).toEqual([iqn, iqn]);
    expect(a.connection_info.target_luns).toEqual([1, 1]);
  });

  it('iscsi with discovery CHAP when the type asks for it', async () => {
    const vol = await cinder.volume({ volume_type: 'iscsi-discovery-chap' });
    const a = (await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector } })).body.attachment;
    expect(a.connection_info.discovery_auth_method).toBe('CHAP');
    expect(a.connection_info.discovery_auth_username).toMatch(/^\w{20}$/);
    expect(a.connection_info.discovery_auth_password).toMatch(/^\w{16}$/);
  });

  it('rbd: Cinder RBD driver shape', async () => {
    const vol = await cinder.volume({ volume_type: 'rbd' });
    const a = (await cinder.post('/attachments', { attachment: { volume_uuid: vol, connector } })).body.attachment;
    expect(a.connection_info).toMatchObject({
      driver_volume_type: 'rbd',
      name: `volumes/volume-${vol}`,
      hosts: ['127.0.0.1'],
      ports: ['6789'],
      cluster_name: 'ceph',
      auth_enabled: true,
      auth_username: 'cinder',
      secret_type: 'ceph',
      volume_id: vol,
      discard: true,
      attachment_id: a.id,
    });
    expect(a.connection_info.secret_uuid).toMatch(/^[0-9a-f-]{36}$/);
  });
});
