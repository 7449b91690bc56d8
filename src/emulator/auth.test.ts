import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, Cinder, emulator, keystoneToken, passwordAuth } from '../../test/helpers/emulator-http.js';
import type { RunningEmulator } from './types.js';

describe('noauth', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    ({ emu } = await emulator());
  });
  afterAll(() => emu.stop());

  it('answers 204 with hint headers when there is no token', async () => {
    const r = await call('GET', `${emu.cinderEndpoint}/volumes`);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect(r.headers.get('x-auth-token')).toBe('admin:admin');
    expect(r.headers.get('x-server-management-url')).toBe(`${emu.cinderEndpoint}/volumes`);
  });

  it('accepts user:project and treats the caller as admin', async () => {
    const c = new Cinder(emu, '3.70', `someone:${emu.projectId}`);
    const id = await c.volume();
    const r = await c.get(`/volumes/${id}`);
    expect(r.body.volume.user_id).toBe('someone');
    expect(r.body.volume['os-vol-host-attr:host']).toBe('cinder-emulator@local#local');
  });

  it('has no Keystone', () => {
    expect(emu.keystoneUrl).toBeUndefined();
  });
});

describe('keystone', () => {
  let emu: RunningEmulator;
  const admin = { name: 'admin', password: 'admin-pw', project: 'admin', roles: ['admin'] };
  const member = { name: 'csi', password: 'csi-pw', project: 'csi', roles: ['member'] };

  beforeAll(async () => {
    ({ emu } = await emulator({ keystonePort: 0, users: [member, admin], tokenTtlSeconds: 120 }));
  });
  afterAll(() => emu.stop());

  async function memberToken(): Promise<string> {
    const r = await keystoneToken(emu, passwordAuth('csi', 'csi-pw', 'csi'));
    expect(r.status).toBe(201);
    return r.token ?? '';
  }

  it('serves the identity version document', async () => {
    const r = await call('GET', `${emu.keystoneUrl ?? ''}`);
    expect(r.status).toBe(200);
    expect(r.body.version.id).toBe('v3.14');
  });

  it('answers 401 with WWW-Authenticate when Cinder gets no token or a bad one', async () => {
    const ksRoot = (emu.keystoneUrl ?? '').replace(/\/v3$/, '');
    for (const token of [null, 'gAAAAAnot-a-real-token']) {
      const r = await call('GET', `${emu.cinderEndpoint}/volumes`, undefined, { token });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe(`Keystone uri="${ksRoot}"`);
      expect(r.body).toEqual({
        error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
      });
    }
  });

  it('issues a password token with the reference body and catalog', async () => {
    const r = await keystoneToken(emu, passwordAuth('csi', 'csi-pw', 'csi'));
    expect(r.status).toBe(201);
    expect(r.token).toMatch(/^gAAAAA/);
    const t = r.body.token;
    expect(t.methods).toEqual(['password']);
    expect(t.project).toMatchObject({ id: emu.projectId, name: 'csi', domain: { id: 'default', name: 'Default' } });
    expect(t.roles.map((x: { name: string }) => x.name).sort()).toEqual(['member', 'reader']);
    expect(t.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const ttl = Date.parse(t.expires_at) - Date.parse(t.issued_at);
    expect(ttl).toBeGreaterThan(119_000);
    expect(ttl).toBeLessThan(121_000);
    for (const type of ['volumev3', 'block-storage']) {
      const svc = t.catalog.find((s: { type: string }) => s.type === type);
      expect(svc.endpoints.map((e: { interface: string }) => e.interface).sort()).toEqual(['admin', 'internal', 'public']);
      for (const e of svc.endpoints) {
        expect(e).toMatchObject({ region: 'RegionOne', region_id: 'RegionOne', url: emu.cinderEndpoint });
      }
    }
  });

  it('scopes to the user project by id too, and rejects a project the user has no role on', async () => {
    const byId = await keystoneToken(emu, {
      identity: { methods: ['password'], password: { user: { name: 'csi', domain: { id: 'default' }, password: 'csi-pw' } } },
      scope: { project: { id: emu.projectId } },
    });
    expect(byId.status).toBe(201);
    const other = await keystoneToken(emu, passwordAuth('csi', 'csi-pw', 'admin'));
    expect(other.status).toBe(401);
  });

  it('answers 401 with Keystone’s body for a wrong password', async () => {
    const r = await keystoneToken(emu, passwordAuth('csi', 'wrong', 'csi'));
    expect(r.status).toBe(401);
    expect(r.token).toBeNull();
    expect(r.body).toEqual({
      error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
    });
  });

  it('accepts its tokens in Cinder and checks the URL project', async () => {
    const token = await memberToken();
    const c = new Cinder(emu, '3.70', token);
    expect((await c.get('/volumes')).status).toBe(200);
    const wrong = await call('GET', `${emu.cinderUrl}/v3/abcdef0123/volumes`, undefined, { token });
    expect(wrong.status).toBe(400);
    expect(wrong.body.badRequest.message).toBe('Malformed request url');
  });

  it('hides admin-only fields and forbids admin actions for a member', async () => {
    const c = new Cinder(emu, '3.70', await memberToken());
    const id = await c.volume();
    const v = (await c.get(`/volumes/${id}`)).body.volume;
    expect(v['os-vol-host-attr:host']).toBeUndefined();
    await c.attach(id, { host: 'node-a' });
    const after = (await c.get(`/volumes/${id}`)).body.volume;
    expect(after.attachments[0].host_name).toBeNull();
    const r = await c.post(`/volumes/${id}/action`, { 'os-reset_status': { status: 'available' } });
    expect(r.status).toBe(403);
    expect(r.body).toEqual({
      forbidden: {
        code: 403,
        message: "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed.",
      },
    });
  });

  it('answers 400 to a member’s unknown filter from 3.34, and drops it silently before', async () => {
    const c = new Cinder(emu, '3.44', await memberToken());
    const id = await c.volume({ name: 'member-filter' });
    const r = await c.get('/volumes?foo=bar');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ badRequest: { code: 400, message: 'Invalid filters foo are found in query options.' } });
    expect((await c.get('/volumes?with_count=true')).body.badRequest.message).toBe(
      'Invalid filters with_count are found in query options.',
    );
    const old = await c.at('3.33').get('/volumes?foo=bar');
    expect(old.status).toBe(200);
    expect(old.body.volumes.map((v: { id: string }) => v.id)).toContain(id);
  });

  it('shows host_name to an admin', async () => {
    const r = await keystoneToken(emu, passwordAuth('admin', 'admin-pw', 'admin'));
    const adminProject = r.body.token.project.id as string;
    const id = (await call('POST', `${emu.cinderUrl}/v3/${adminProject}/volumes`, { volume: { size: 1 } }, { token: r.token })).body
      .volume.id as string;
    const cc = new Cinder({ ...emu, cinderEndpoint: `${emu.cinderUrl}/v3/${adminProject}` }, '3.70', r.token);
    await cc.waitStatus('volumes', id, 'available');
    await cc.attach(id, { host: 'node-b' });
    expect((await cc.get(`/volumes/${id}`)).body.volume.attachments[0].host_name).toBe('node-b');
  });

  it('authenticates application credentials by id and by name, without scope', async () => {
    const cred = emu.createApplicationCredential('csi', 'driver');
    const byId = await keystoneToken(emu, {
      identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } },
    });
    expect(byId.status).toBe(201);
    expect(byId.body.token.application_credential).toEqual({ id: cred.id, name: 'driver', restricted: true });
    expect(byId.body.token.project.id).toBe(emu.projectId);
    const byName = await keystoneToken(emu, {
      identity: {
        methods: ['application_credential'],
        application_credential: { name: 'driver', user: { name: 'csi', domain: { name: 'Default' } }, secret: cred.secret },
      },
    });
    expect(byName.status).toBe(201);
    expect((await new Cinder(emu, '3.70', byName.token).get('/volumes')).status).toBe(200);
    const bad = await keystoneToken(emu, {
      identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: 'nope' } },
    });
    expect(bad.status).toBe(401);
  });

  it('answers 401 when an application credential asks for a scope', async () => {
    const cred = emu.createApplicationCredential('csi', 'scoped');
    const r = await keystoneToken(emu, {
      identity: { methods: ['application_credential'], application_credential: { id: cred.id, secret: cred.secret } },
      scope: { project: { id: emu.projectId } },
    });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe(401);
    expect(r.body.error.message).toContain('Application credentials cannot request a scope.');
  });

  it('creates application credentials over REST for the token’s own user only', async () => {
    const token = await memberToken();
    const userId = (await call('GET', `${emu.keystoneUrl}/auth/tokens`, undefined, { headers: { 'X-Auth-Token': token, 'X-Subject-Token': token } }))
      .body.token.user.id as string;
    const r = await call(
      'POST',
      `${emu.keystoneUrl}/users/${userId}/application_credentials`,
      { application_credential: { name: 'rest-cred', roles: [{ name: 'member' }] } },
      { headers: { 'X-Auth-Token': token } },
    );
    expect(r.status).toBe(201);
    expect(typeof r.body.application_credential.secret).toBe('string');
    expect(r.body.application_credential.roles.map((x: { name: string }) => x.name)).toEqual(['member']);
    const t = await keystoneToken(emu, {
      identity: {
        methods: ['application_credential'],
        application_credential: { id: r.body.application_credential.id, secret: r.body.application_credential.secret },
      },
    });
    expect(t.body.token.roles.map((x: { name: string }) => x.name)).toEqual(['member']);
    const dup = await call(
      'POST',
      `${emu.keystoneUrl}/users/${userId}/application_credentials`,
      { application_credential: { name: 'rest-cred' } },
      { headers: { 'X-Auth-Token': token } },
    );
    expect(dup.status).toBe(409);
    const other = await call(
      'POST',
      `${emu.keystoneUrl}/users/0000/application_credentials`,
      { application_credential: { name: 'x' } },
      { headers: { 'X-Auth-Token': token } },
    );
    expect(other.status).toBe(403);
    const anonymous = await call('POST', `${emu.keystoneUrl}/users/${userId}/application_credentials`, {
      application_credential: { name: 'y' },
    });
    expect(anonymous.status).toBe(401);
  });

  it('expireTokens() makes every issued token fail with 401', async () => {
    const token = await memberToken();
    const c = new Cinder(emu, '3.70', token);
    expect((await c.get('/volumes')).status).toBe(200);
    emu.expireTokens();
    expect((await c.get('/volumes')).status).toBe(401);
    const fresh = new Cinder(emu, '3.70', await memberToken());
    expect((await fresh.get('/volumes')).status).toBe(200);
  });

  it('POST /_emulator/expire-tokens does the same over HTTP', async () => {
    const c = new Cinder(emu, '3.70', await memberToken());
    expect((await call('POST', `${emu.cinderUrl}/_emulator/expire-tokens`)).status).toBe(204);
    expect((await c.get('/volumes')).status).toBe(401);
  });

  it('revokes with DELETE (204); Keystone forgets it, Cinder keeps its cached validation', async () => {
    const token = await memberToken();
    const other = await memberToken();
    const del = await call('DELETE', `${emu.keystoneUrl}/auth/tokens`, undefined, {
      headers: { 'X-Auth-Token': other, 'X-Subject-Token': token },
    });
    expect(del.status).toBe(204);
    const check = await call('GET', `${emu.keystoneUrl}/auth/tokens`, undefined, {
      headers: { 'X-Auth-Token': other, 'X-Subject-Token': token },
    });
    expect(check.status).toBe(404);
    expect((await new Cinder(emu, '3.70', token).get('/volumes')).status).toBe(200);
  });

  it('counts Keystone requests per route', async () => {
    emu.resetStats();
    await memberToken();
    expect(emu.stats().keystoneRequests['POST /v3/auth/tokens']).toBe(1);
  });
});
