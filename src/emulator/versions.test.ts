import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cinder, emulator } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

let emu: RunningEmulator;
let cinder: Cinder;

beforeAll(async () => {
  ({ emu, cinder } = await emulator());
});
afterAll(() => emu.stop());

describe('version documents', () => {
  it('GET / answers 300 with min 3.0 and max 3.70, without auth', async () => {
    const r = await call('GET', `${emu.cinderUrl}/`);
    expect(r.status).toBe(300);
    const v = r.body.versions[0];
    expect(v).toMatchObject({ id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0' });
    expect(v.links).toContainEqual({ rel: 'self', href: `${emu.cinderUrl}/v3/` });
  });

  it('GET /v3/ answers 200 with the same document (authenticated pipeline)', async () => {
    const r = await call('GET', `${emu.cinderUrl}/v3/`, undefined, { token: 'admin:admin' });
    expect(r.status).toBe(200);
    expect(r.body.versions[0].version).toBe('3.70');
  });

  it('offers the configured maximum', async () => {
    const { emu: other, cinder: c } = await emulator({ maxMicroversion: '3.60' });
    try {
      const r = await call('GET', `${other.cinderUrl}/`);
      expect(r.body.versions[0].version).toBe('3.60');
      const latest = await c.at('latest').get('/volumes');
      expect(latest.headers.get('openstack-api-version')).toBe('volume 3.60');
      expect((await c.at('3.61').get('/volumes')).status).toBe(406);
    } finally {
      await other.stop();
    }
  });
});

describe('microversion negotiation', () => {
  it('defaults to 3.0 and echoes it', async () => {
    const r = await cinder.at(null).get('/volumes');
    expect(r.status).toBe(200);
    expect(r.headers.get('openstack-api-version')).toBe('volume 3.0');
    expect(r.headers.get('vary')).toBe('OpenStack-API-Version');
  });

  it('echoes the requested version and resolves latest', async () => {
    expect((await cinder.at('3.44').get('/volumes')).headers.get('openstack-api-version')).toBe('volume 3.44');
    expect((await cinder.at('latest').get('/volumes')).headers.get('openstack-api-version')).toBe('volume 3.70');
  });

  it('picks the volume entry out of a multi-service header', async () => {
    const r = await cinder.at(null).get('/volumes', { headers: { 'OpenStack-API-Version': 'compute 2.1, volume 3.50' } });
    expect(r.headers.get('openstack-api-version')).toBe('volume 3.50');
  });

  it('answers 406 above the maximum, with the real body', async () => {
    const r = await cinder.at('3.71').get('/volumes');
    expect(r.status).toBe(406);
    expect(r.body).toEqual({
      computeFault: {
        code: 406,
        message: 'Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70.',
      },
    });
  });

  it('answers 406 below the minimum', async () => {
    expect((await cinder.at('2.0').get('/volumes')).status).toBe(406);
  });

  it('answers 400 for a malformed version', async () => {
    const r = await cinder.at('3.x').get('/volumes');
    expect(r.status).toBe(400);
    expect(r.body.badRequest.message).toBe('API Version String 3.x is of invalid format. Must be of format MajorNum.MinorNum.');
  });
});

describe('URLs', () => {
  it('rejects a non-hex project id with the router 404 body', async () => {
    const r = await call('GET', `${emu.cinderUrl}/v3/myproject/volumes`, undefined, { token: 'admin:myproject' });
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      message: 'The resource could not be found.<br /><br />\n\n\n',
      code: '404 Not Found',
      title: 'Not Found',
    });
  });

  it('answers 400 "Malformed request url" when the URL project is not the token project', async () => {
    const r = await call('GET', `${emu.cinderUrl}/v3/abcdef/volumes`, undefined, { token: `admin:${emu.projectId}` });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('routes project-less URLs with the token project', async () => {
    const created = await cinder.post('/volumes', { volume: { size: 1, name: 'projectless' } });
    const r = await call('GET', `${emu.cinderUrl}/v3/volumes/${created.body.volume.id}`, undefined, {
      token: `admin:${emu.projectId}`,
    });
    expect(r.status).toBe(200);
    expect(r.body.volume.name).toBe('projectless');
    expect(r.body.volume['os-vol-tenant-attr:tenant_id']).toBe(emu.projectId);
  });

  it('answers the router 404 for unknown paths', async () => {
    const r = await cinder.get('/no-such-thing');
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('404 Not Found');
  });

  it('sets a request id on every answer', async () => {
    const r = await cinder.get('/volumes');
    expect(r.headers.get('x-openstack-request-id')).toMatch(/^req-[0-9a-f-]{36}$/);
  });
});
