import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers/log-capture.js';
import { mapError } from '../csi/error-map.js';
import { DriverError } from '../util/errors.js';
import { Code } from '../csi/status-codes.js';
import { HttpCinderClient, type ClientDeps } from './client.js';
import type { CinderClientConfig } from './config.js';
import { CinderError, QuotaExceededError, isNotFound, isOutcomeUnknown } from './errors.js';
import type { HttpRequest } from './http.js';
import { createCinderMetrics } from './metrics.js';
import { FakeTransport, cinderFault, jsonReply, networkError, timeoutError, versionDocument } from '../../test/fakes/fake-transport.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const ENDPOINT = `http://cinder.test:8776/v3/${PROJECT}`;
const VOL_ID = '7c1e0e7e-2d7c-4f7e-9b55-1c2b3d4e5f60';

function volumeBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: VOL_ID,
    name: 'pvc-1',
    status: 'available',
    size: 1,
    metadata: { 'cinder.metal.csi.kungze.io/cluster': 'k1' },
    attachments: [],
    availability_zone: 'nova',
    volume_type: '__DEFAULT__',
    multiattach: false,
    snapshot_id: null,
    source_volid: null,
    created_at: '2024-05-01T10:00:00.000000',
    updated_at: null,
    bootable: 'false',
    encrypted: false,
    'os-vol-host-attr:host': 'cinder-host@file#file',
    migration_status: null,
    ...over,
  };
}

/** Fake time: back-off sleeps advance it instead of waiting. */
function fakeTime(start = Date.parse('2024-05-01T10:00:00Z')) {
  const t = { now: start, slept: [] as number[] };
  return {
    t,
    deps: {
      now: () => t.now,
      sleep: async (ms: number) => {
        t.slept.push(ms);
        t.now += ms;
      },
      random: () => 0.5,
    } satisfies Partial<ClientDeps>,
  };
}

function noauthClient(transport: FakeTransport, extra: Partial<ClientDeps> = {}, config: Partial<CinderClientConfig> = {}) {
  return new HttpCinderClient(
    { authStrategy: 'noauth', cinderEndpoint: ENDPOINT, ...config },
    { transport, metrics: createCinderMetrics(new Registry()), sleep: async () => undefined, ...extra },
  );
}

function cinder(max = '3.70'): FakeTransport {
  return new FakeTransport().on('GET', /^http:\/\/cinder\.test:8776\/$/, versionDocument(max));
}

const KS = 'http://keystone.test:5000/v3';

function tokenReply(token: string, opts: { expiresInS?: number; issued?: number; catalogUrl?: string } = {}) {
  const issued = opts.issued ?? Date.parse('2024-05-01T10:00:00Z');
  return jsonReply(
    201,
    {
      token: {
        methods: ['password'],
        expires_at: new Date(issued + (opts.expiresInS ?? 3600) * 1000).toISOString(),
        issued_at: new Date(issued).toISOString(),
        project: { id: PROJECT, name: 'csi', domain: { id: 'default', name: 'Default' } },
        catalog: [
          { type: 'identity', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://keystone.test:5000' }] },
          {
            type: 'volumev3',
            name: 'cinderv3',
            endpoints: [
              { interface: 'internal', region_id: 'RegionOne', region: 'RegionOne', url: 'http://internal.test:8776/v3/' + PROJECT },
              { interface: 'public', region_id: 'RegionTwo', region: 'RegionTwo', url: 'http://two.test:8776/v3/' + PROJECT },
              { interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: opts.catalogUrl ?? ENDPOINT },
            ],
          },
        ],
      },
    },
    { 'x-subject-token': token },
  );
}

const passwordConfig: CinderClientConfig = {
  authStrategy: 'keystone',
  authUrl: 'http://keystone.test:5000',
  username: 'csi',
  password: 'pw-PLANTED-9f8e7d',
  userDomainName: 'Default',
  projectName: 'csi',
  projectDomainName: 'Default',
  region: 'RegionOne',
};

function bodyOf(r: HttpRequest | undefined): Record<string, unknown> {
  return r?.body as Record<string, unknown>;
}

describe('noauth and microversion', () => {
  it('sends <user>:<project> and the negotiated version; negotiates once for concurrent calls', async () => {
    const t = cinder('3.70').on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = noauthClient(t);
    const vols = await Promise.all(Array.from({ length: 10 }, () => c.getVolume(VOL_ID)));
    expect(vols[0]).toMatchObject({ id: VOL_ID, status: 'available', size: 1, host: 'cinder-host@file#file', bootable: false });
    expect(t.count('GET', /:8776\/$/)).toBe(1);
    const req = t.requests.find((r) => r.url.endsWith(VOL_ID))!;
    expect(req.url).toBe(`${ENDPOINT}/volumes/${VOL_ID}`);
    expect(req.headers).toMatchObject({ 'X-Auth-Token': `admin:${PROJECT}`, 'OpenStack-API-Version': 'volume 3.70' });
    // the version document is fetched without a token
    expect(t.requests[0]?.headers?.['X-Auth-Token']).toBeUndefined();
    expect(await c.features()).toMatchObject({ microversion: '3.70', attachMode: true, snapshotWithoutForce: true });
  });

  it('uses the server maximum when lower and sets the feature flags from it', async () => {
    const t = cinder('3.50').on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = noauthClient(t);
    await c.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.headers?.['OpenStack-API-Version']).toBe('volume 3.50');
    expect(await c.features()).toMatchObject({ microversion: '3.50', sharedTargets: true, attachMode: false, updatedAtFilters: false });
  });

  it('fails clearly below 3.44 and tries again on the next call', async () => {
    const t = cinder('3.40');
    const c = noauthClient(t);
    const err = await c.getVolume(VOL_ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('precondition');
    expect((err as Error).message).toMatch(/up to 3\.40.*at least 3\.44/);
    await c.getVolume(VOL_ID).catch(() => undefined);
    expect(t.count('GET', /:8776\/$/)).toBe(2);
  });

  it('falls back to GET /v3/ when the root has no version document', async () => {
    const t = new FakeTransport()
      .on('GET', /:8776\/$/, jsonReply(404, { message: 'nope' }))
      .on('GET', /:8776\/v3\/$/, jsonReply(200, { version: { id: 'v3.0', version: '3.60', min_version: '3.0' } }))
      .on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = noauthClient(t);
    await c.getVolume(VOL_ID);
    expect((await c.features()).microversion).toBe('3.60');
  });

  it('takes the project from projectId when the endpoint has none, and a user name', async () => {
    const t = new FakeTransport().on('GET', /:8776\/$/, versionDocument()).on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = new HttpCinderClient(
      { authStrategy: 'noauth', cinderEndpoint: 'http://cinder.test:8776/v3', projectId: 'abc123', username: 'ops' },
      { transport: t, metrics: createCinderMetrics(new Registry()) },
    );
    await c.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.url).toBe(`http://cinder.test:8776/v3/volumes/${VOL_ID}`);
    expect(t.requests.at(-1)?.headers?.['X-Auth-Token']).toBe('ops:abc123');
  });

  it('rejects an incomplete noauth config naming the key', () => {
    expect(() => new HttpCinderClient({ authStrategy: 'noauth' })).toThrow(/cinder-endpoint is required/);
    expect(() => new HttpCinderClient({ authStrategy: 'noauth', cinderEndpoint: 'http://c:8776/v3' })).toThrow(/project-id/);
    expect(() => new HttpCinderClient({ authStrategy: 'noauth', cinderEndpoint: ENDPOINT, projectId: 'other' })).toThrow(/differs/);
  });
});

describe('keystone', () => {
  it('password auth by names with domains, then catalog lookup by region and interface', async () => {
    const t = new FakeTransport()
      .on('POST', /keystone\.test:5000\/v3\/auth\/tokens$/, tokenReply('tok-1'))
      .on('GET', /:8776\/$/, versionDocument())
      .on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = new HttpCinderClient(passwordConfig, { transport: t, metrics: createCinderMetrics(new Registry()) });
    await c.getVolume(VOL_ID);
    const auth = t.requests[0]!;
    expect(auth.url).toBe(`${KS}/auth/tokens`);
    expect(bodyOf(auth)).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'csi', domain: { name: 'Default' }, password: 'pw-PLANTED-9f8e7d' } } },
        scope: { project: { name: 'csi', domain: { name: 'Default' } } },
      },
    });
    expect(t.requests.at(-1)?.url).toBe(`${ENDPOINT}/volumes/${VOL_ID}`);
    expect(t.requests.at(-1)?.headers?.['X-Auth-Token']).toBe('tok-1');
  });

  it('password auth by ids', async () => {
    const t = new FakeTransport().on('POST', /auth\/tokens$/, tokenReply('tok')).on('GET', /:8776\/$/, versionDocument()).on('GET', /limits$/, jsonReply(200, { limits: { rate: [], absolute: { maxTotalVolumes: 10 } } }));
    const c = new HttpCinderClient(
      { authStrategy: 'keystone', authUrl: `${KS}/`, userId: 'u1', password: 'secret-pw', projectId: PROJECT },
      { transport: t, metrics: createCinderMetrics(new Registry()) },
    );
    expect(await c.getLimits()).toEqual({ maxTotalVolumes: 10 });
    expect(bodyOf(t.requests[0])).toEqual({
      auth: { identity: { methods: ['password'], password: { user: { id: 'u1', password: 'secret-pw' } } }, scope: { project: { id: PROJECT } } },
    });
  });

  it('application credential auth never sends a scope', async () => {
    const t = new FakeTransport().on('POST', /auth\/tokens$/, tokenReply('tok')).on('GET', /:8776\/$/, versionDocument()).on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = new HttpCinderClient(
      { authStrategy: 'keystone', authUrl: KS, applicationCredentialId: 'ac-1', applicationCredentialSecret: 'ac-secret', projectName: 'ignored', region: 'RegionOne' },
      { transport: t, metrics: createCinderMetrics(new Registry()) },
    );
    await c.getVolume(VOL_ID);
    expect(bodyOf(t.requests[0])).toEqual({
      auth: { identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: 'ac-secret' } } },
    });
  });

  it('catalog: interface and region select the endpoint; cinderEndpoint overrides with the project substituted', async () => {
    const t = new FakeTransport().on('POST', /auth\/tokens$/, tokenReply('tok')).on('GET', /:8776\/$/, versionDocument()).on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const internal = new HttpCinderClient({ ...passwordConfig, interface: 'internal' }, { transport: t, metrics: createCinderMetrics(new Registry()) });
    await internal.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.url).toMatch(/^http:\/\/internal\.test:8776\//);
    const two = new HttpCinderClient({ ...passwordConfig, region: 'RegionTwo' }, { transport: t, metrics: createCinderMetrics(new Registry()) });
    await two.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.url).toMatch(/^http:\/\/two\.test:8776\//);
    const over = new HttpCinderClient(
      { ...passwordConfig, cinderEndpoint: 'http://proxy.test:8776/v3/%(project_id)s' },
      { transport: t, metrics: createCinderMetrics(new Registry()) },
    );
    await over.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.url).toBe(`http://proxy.test:8776/v3/${PROJECT}/volumes/${VOL_ID}`);
    const none = new HttpCinderClient({ ...passwordConfig, region: 'Nowhere' }, { transport: t, metrics: createCinderMetrics(new Registry()) });
    await expect(none.getVolume(VOL_ID)).rejects.toThrow(/no block-storage or volumev3 endpoint with interface public in region Nowhere/);
  });

  it('rejects incomplete keystone configs naming the key', () => {
    expect(() => new HttpCinderClient({ authStrategy: 'keystone' })).toThrow(/auth-url/);
    expect(() => new HttpCinderClient({ authStrategy: 'keystone', authUrl: KS, username: 'u', password: 'p' })).toThrow(/domain/);
    expect(() => new HttpCinderClient({ authStrategy: 'keystone', authUrl: KS, userId: 'u', password: 'p' })).toThrow(/project-name or project-id/);
    expect(() => new HttpCinderClient({ authStrategy: 'keystone', authUrl: KS, applicationCredentialId: 'x' })).toThrow(/application-credential-secret/);
  });

  it('a 401 storm triggers exactly one re-authentication and one replay each', async () => {
    let issued = 0;
    const t = new FakeTransport()
      .on('POST', /auth\/tokens$/, () => tokenReply(`tok-${++issued}`))
      .on('GET', /:8776\/$/, versionDocument())
      .on('GET', /\/volumes\/[^/]+$/, (req) =>
        req.headers?.['X-Auth-Token'] === 'tok-1' ? jsonReply(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } }) : jsonReply(200, { volume: volumeBody() }),
      );
    const c = new HttpCinderClient(passwordConfig, { transport: t, metrics: createCinderMetrics(new Registry()) });
    await c.getVolume(VOL_ID); // warm: tok-1 … which is refused → re-auth → tok-2
    expect(t.count('POST', /auth\/tokens$/)).toBe(2);
    const results = await Promise.all(Array.from({ length: 20 }, () => c.getVolume(VOL_ID)));
    expect(results).toHaveLength(20);
    expect(t.count('POST', /auth\/tokens$/)).toBe(2);
    expect(c.auth.authentications()).toBe(2);
  });

  it('concurrent 401s on one token share one POST /auth/tokens', async () => {
    let issued = 0;
    let gate: (() => void) | undefined;
    const opened = new Promise<void>((r) => (gate = r));
    const t = new FakeTransport()
      .on('POST', /auth\/tokens$/, () => tokenReply(`tok-${++issued}`))
      .on('GET', /:8776\/$/, versionDocument())
      .on('GET', /\/volumes\/[^/]+$/, async (req) => {
        if (req.headers?.['X-Auth-Token'] === 'tok-1') {
          await opened; // all 30 requests are in flight with tok-1 before any 401 comes back
          return jsonReply(401, { error: { code: 401, title: 'Unauthorized', message: 'expired' } });
        }
        return jsonReply(200, { volume: volumeBody() });
      });
    const c = new HttpCinderClient(passwordConfig, { transport: t, metrics: createCinderMetrics(new Registry()) });
    await c.features();
    const all = Promise.all(Array.from({ length: 30 }, () => c.getVolume(VOL_ID)));
    await new Promise((r) => setTimeout(r, 20));
    gate?.();
    await all;
    expect(t.count('POST', /auth\/tokens$/)).toBe(2);
    expect(t.count('GET', /\/volumes\//)).toBe(60);
  });

  it('a second 401 after the replay is final (UNAUTHENTICATED)', async () => {
    let issued = 0;
    const t = new FakeTransport()
      .on('POST', /auth\/tokens$/, () => tokenReply(`tok-${++issued}`))
      .on('GET', /:8776\/$/, versionDocument())
      .on('GET', /\/volumes\/[^/]+$/, jsonReply(401, { error: { code: 401, title: 'Unauthorized', message: 'no' } }));
    const c = new HttpCinderClient(passwordConfig, { transport: t, metrics: createCinderMetrics(new Registry()) });
    const err = await c.getVolume(VOL_ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderError);
    expect((err as CinderError).status).toBe(401);
    expect(mapError(err).code).toBe(Code.UNAUTHENTICATED);
    expect(t.count('GET', /\/volumes\//)).toBe(2);
    expect(t.count('POST', /auth\/tokens$/)).toBe(2);
  });

  it('renews the token ahead of expires_at without blocking callers', async () => {
    const time = fakeTime();
    let issued = 0;
    const t = new FakeTransport()
      .on('POST', /auth\/tokens$/, () => tokenReply(`tok-${++issued}`, { expiresInS: 100, issued: time.t.now }))
      .on('GET', /:8776\/$/, versionDocument())
      .on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }));
    const c = new HttpCinderClient(passwordConfig, { transport: t, metrics: createCinderMetrics(new Registry()), ...time.deps });
    await c.getVolume(VOL_ID);
    time.t.now += 80_000; // 20 s left, margin is 10 s: no renewal yet
    await c.getVolume(VOL_ID);
    expect(issued).toBe(1);
    time.t.now += 15_000; // 5 s left: inside the margin
    await c.getVolume(VOL_ID);
    await new Promise((r) => setTimeout(r, 10));
    expect(issued).toBe(2);
    await c.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.headers?.['X-Auth-Token']).toBe('tok-2');
    time.t.now += 200_000; // tok-2 expired too: the caller waits for tok-3
    await c.getVolume(VOL_ID);
    expect(t.requests.at(-1)?.headers?.['X-Auth-Token']).toBe('tok-3');
  });

  it('a wrong password is a KeystoneError (UNAUTHENTICATED) without the password', async () => {
    const t = new FakeTransport().on(
      'POST',
      /auth\/tokens$/,
      jsonReply(401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication. (pw-PLANTED-9f8e7d)' } }),
    );
    const c = new HttpCinderClient(passwordConfig, { transport: t, metrics: createCinderMetrics(new Registry()) });
    const err = await c.getVolume(VOL_ID).catch((e: unknown) => e);
    expect((err as Error).name).toBe('KeystoneError');
    expect(mapError(err).code).toBe(Code.UNAUTHENTICATED);
    expect((err as Error).message).not.toContain('pw-PLANTED-9f8e7d');
    expect((err as Error).message).toContain('[REDACTED]');
  });
});

describe('retries, timeouts and outcome-unknown', () => {
  it('retries a GET through a 5xx burst with back-off', async () => {
    const time = fakeTime();
    const t = cinder().on('GET', /\/volumes\/[^/]+$/, cinderFault(503, 'computeFault', 'busy'), cinderFault(500, 'computeFault', 'oops'), jsonReply(200, { volume: volumeBody() }));
    const c = noauthClient(t, time.deps);
    await expect(c.getVolume(VOL_ID)).resolves.toMatchObject({ id: VOL_ID });
    expect(t.count('GET', /\/volumes\//)).toBe(3);
    expect(time.t.slept).toHaveLength(2);
    expect(time.t.slept[1]!).toBeGreaterThan(time.t.slept[0]!);
  });

  it('gives up after maxAttempts with an UNAVAILABLE-kind error', async () => {
    const time = fakeTime();
    const t = cinder().on('GET', /\/volumes\/[^/]+$/, cinderFault(500, 'computeFault', 'The server has either erred'));
    const c = noauthClient(t, { ...time.deps, retry: { maxAttempts: 3 } });
    const err = await c.getVolume(VOL_ID).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, cinderCode: 'computeFault', method: 'GET', route: '/volumes/{id}', outcomeUnknown: false });
    expect(mapError(err).code).toBe(Code.UNAVAILABLE);
    expect(t.count('GET', /\/volumes\//)).toBe(3);
  });

  it('never repeats POST /volumes after a 500 or a lost reply: outcomeUnknown', async () => {
    for (const reply of [cinderFault(500, 'computeFault', 'erred'), networkError('ECONNRESET'), timeoutError()]) {
      const t = cinder().on('POST', /\/volumes$/, reply);
      const c = noauthClient(t);
      const err = await c.createVolume({ name: 'pvc-1', size: 1 }).catch((e: unknown) => e);
      expect(isOutcomeUnknown(err)).toBe(true);
      expect(mapError(err).code).toBe(Code.UNAVAILABLE);
      expect(t.count('POST', /\/volumes$/)).toBe(1);
    }
  });

  it('retries a POST that certainly never left (ECONNREFUSED), on a fresh connection', async () => {
    const t = cinder().on('POST', /\/volumes$/, networkError('ECONNREFUSED', false), jsonReply(202, { volume: volumeBody({ status: 'creating' }) }));
    const c = noauthClient(t);
    await expect(c.createVolume({ name: 'pvc-1', size: 1 })).resolves.toMatchObject({ status: 'creating' });
    const posts = t.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts.every((p) => p.freshConnection)).toBe(true);
  });

  it('a DELETE whose first reply was lost and whose retry says 404 is not-found with outcomeUnknown', async () => {
    const t = cinder().on('DELETE', /\/volumes\/[^/]+$/, networkError('ECONNRESET'), cinderFault(404, 'itemNotFound', 'Volume could not be found.'));
    const c = noauthClient(t);
    const err = await c.deleteVolume(VOL_ID).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect(isOutcomeUnknown(err)).toBe(true);
  });

  it('os-extend and os-complete are retried (idempotent actions)', async () => {
    const t = cinder()
      .on('POST', /\/volumes\/[^/]+\/action$/, cinderFault(503, 'computeFault', 'busy'), { status: 202, headers: {}, text: '' })
      .on('POST', /\/attachments\/[^/]+\/action$/, networkError('ECONNRESET'), { status: 204, headers: {}, text: '' });
    const c = noauthClient(t);
    await c.extendVolume(VOL_ID, 3);
    await c.completeAttachment('att-1');
    expect(bodyOf(t.requests.find((r) => r.url.endsWith(`${VOL_ID}/action`)))).toEqual({ 'os-extend': { new_size: 3 } });
    expect(bodyOf(t.requests.find((r) => r.url.endsWith('att-1/action')))).toEqual({ 'os-complete': null });
    expect(t.count('POST', /action$/)).toBe(4);
  });

  it('413 with Retry-After 0 is a QuotaExceededError (RESOURCE_EXHAUSTED), not retried', async () => {
    const t = cinder().on(
      'POST',
      /\/volumes$/,
      jsonReply(
        413,
        { overLimit: { code: 413, message: "VolumeLimitExceeded: Maximum number of volumes allowed (5) exceeded for quota 'volumes'.", retryAfter: '0' } },
        { 'retry-after': '0' },
      ),
    );
    const c = noauthClient(t);
    const err = await c.createVolume({ name: 'x', size: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuotaExceededError);
    expect((err as QuotaExceededError).message).toMatch(/VolumeLimitExceeded/);
    expect(mapError(err).code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(isOutcomeUnknown(err)).toBe(false);
    expect(t.count('POST', /\/volumes$/)).toBe(1);
  });

  it('413/429 with Retry-After > 0 waits and retries within the deadline, then UNAVAILABLE', async () => {
    const time = fakeTime();
    const limited = jsonReply(413, { overLimit: { code: 413, message: 'rate limited', retryAfter: '1' } }, { 'retry-after': '1' });
    const t = cinder().on('POST', /\/volumes$/, limited, jsonReply(202, { volume: volumeBody({ status: 'creating' }) }));
    const c = noauthClient(t, time.deps);
    await expect(c.createVolume({ name: 'x', size: 1 }, { deadline: time.t.now + 10_000 })).resolves.toMatchObject({ status: 'creating' });
    expect(time.t.slept[0]).toBeGreaterThanOrEqual(1000);

    const t2 = cinder().on('GET', /\/volumes\/[^/]+$/, jsonReply(429, { overLimit: { code: 429, message: 'slow down' } }, { 'retry-after': '5' }));
    const c2 = noauthClient(t2, time.deps);
    const start = time.t.now;
    const err = await c2.getVolume(VOL_ID, { deadline: start + 3000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, retryAfter: 5 });
    expect(mapError(err).code).toBe(Code.UNAVAILABLE);
    expect(time.t.now).toBeLessThanOrEqual(start + 3000); // never slept past the deadline
  });

  it('a hang ends inside the deadline with a timeout (UNAVAILABLE) and per-attempt timeouts never exceed it', async () => {
    const time = fakeTime();
    const t = cinder().on('GET', /\/volumes\/[^/]+$/, (req) => {
      time.t.now += req.timeoutMs; // the attempt hangs until its timeout
      return timeoutError(req.timeoutMs);
    });
    const c = noauthClient(t, { ...time.deps }, { requestTimeoutMs: 1000 });
    const deadline = time.t.now + 2500;
    const err = await c.getVolume(VOL_ID, { deadline }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'timeout', status: undefined });
    expect(mapError(err).code).toBe(Code.UNAVAILABLE);
    expect(time.t.now).toBeLessThanOrEqual(deadline);
    const attempts = t.requests.filter((r) => r.url.endsWith(VOL_ID));
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    for (const a of attempts) expect(a.timeoutMs).toBeLessThanOrEqual(1000);
  });

  it('an aborted caller gets the abort, not a Cinder error', async () => {
    const ctl = new AbortController();
    ctl.abort(Object.assign(new Error('deadline'), { name: 'DeadlineExceeded' }));
    const t = cinder();
    const c = noauthClient(t);
    await expect(c.getVolume(VOL_ID, { signal: ctl.signal })).rejects.toMatchObject({ name: 'DeadlineExceeded' });
  });

  it('a malformed 2xx body is an INTERNAL-kind error naming the field', async () => {
    const t = cinder().on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: { id: VOL_ID, status: 'available' } }));
    const c = noauthClient(t);
    const err = await c.getVolume(VOL_ID).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'malformed', cinderCode: 'malformedResponse' });
    expect((err as Error).message).toMatch(/volume\.size/);
    expect(mapError(err).code).toBe(Code.INTERNAL);
    const t2 = cinder().on('GET', /\/volumes\/[^/]+$/, { status: 200, headers: {}, text: '<html>' });
    await expect(noauthClient(t2).getVolume(VOL_ID)).rejects.toThrow(/not JSON/);
  });
});

describe('resources', () => {
  it('createVolume sends only the given fields', async () => {
    const t = cinder().on('POST', /\/volumes$/, jsonReply(202, { volume: volumeBody({ status: 'creating' }) }));
    const c = noauthClient(t);
    await c.createVolume({ name: 'pvc-1', size: 2, volumeType: 'fast', availabilityZone: 'az1', snapshotId: 's1', metadata: { a: 'b' } });
    expect(bodyOf(t.requests.at(-1))).toEqual({
      volume: { name: 'pvc-1', size: 2, volume_type: 'fast', availability_zone: 'az1', snapshot_id: 's1', metadata: { a: 'b' } },
    });
  });

  it('void calls ignore a body they do not need (DELETE answers 202 text/html)', async () => {
    const t = cinder().on('DELETE', /\/volumes\/[^/]+$/, { status: 202, headers: { 'content-type': 'text/html' }, text: '<html>202 Accepted</html>' });
    await expect(noauthClient(t).deleteVolume(VOL_ID)).resolves.toBeUndefined();
  });

  it('listVolumes: filters, limit+1 paging, no marker after the last page', async () => {
    const vols = Array.from({ length: 5 }, (_, i) => volumeBody({ id: `v${i}`, name: `n${i}` }));
    const t = cinder().on('GET', /\/volumes\/detail/, (req) => {
      const u = new URL(req.url);
      const limit = Number(u.searchParams.get('limit') ?? 1000);
      const marker = u.searchParams.get('marker');
      const start = marker ? vols.findIndex((v) => v.id === marker) + 1 : 0;
      const items = vols.slice(start, start + limit);
      // like Cinder: a full page carries a next link, even the last one
      const links = items.length === limit ? [{ rel: 'next', href: `${ENDPOINT}/volumes/detail?limit=${limit}&marker=${items.at(-1)?.id as string}` }] : undefined;
      return jsonReply(200, { volumes: items, ...(links ? { volumes_links: links } : {}) });
    });
    const c = noauthClient(t);
    const p1 = await c.listVolumes({ limit: 2, name: 'n', metadata: { k: 'v' } });
    expect(p1.items.map((v) => v.id)).toEqual(['v0', 'v1']);
    expect(p1.nextMarker).toBe('v1');
    const q = new URL(t.requests.at(-1)!.url).searchParams;
    expect(q.get('limit')).toBe('3');
    expect(q.get('name')).toBe('n');
    expect(JSON.parse(q.get('metadata')!)).toEqual({ k: 'v' });
    const p2 = await c.listVolumes({ limit: 2, marker: 'v1' });
    expect(p2).toMatchObject({ nextMarker: 'v3' });
    const p3 = await c.listVolumes({ limit: 2, marker: 'v3' });
    expect(p3.items.map((v) => v.id)).toEqual(['v4']);
    expect(p3.nextMarker).toBeUndefined();
    // exactly-full last page: Cinder would link an empty page; we do not
    const p4 = await c.listVolumes({ limit: 3, marker: 'v1' });
    expect(p4.items.map((v) => v.id)).toEqual(['v2', 'v3', 'v4']);
    expect(p4.nextMarker).toBeUndefined();
    const all = await c.listAllVolumes({});
    expect(all.map((v) => v.id)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('listAllVolumes walks server-sized pages through the trailing empty page', async () => {
    const vols = Array.from({ length: 4 }, (_, i) => volumeBody({ id: `v${i}` }));
    const t = cinder().on('GET', /\/volumes\/detail/, (req) => {
      const marker = new URL(req.url).searchParams.get('marker');
      const start = marker ? vols.findIndex((v) => v.id === marker) + 1 : 0;
      const items = vols.slice(start, start + 2);
      return jsonReply(200, { volumes: items, ...(items.length === 2 ? { volumes_links: [{ rel: 'next', href: `x?marker=${items[1]!.id as string}` }] } : {}) });
    });
    const c = noauthClient(t);
    expect((await c.listAllVolumes()).map((v) => v.id)).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(t.count('GET', /volumes\/detail/)).toBe(3);
  });

  it('createSnapshot sends force only when asked and only below 3.66', async () => {
    const snap = { id: 's1', volume_id: VOL_ID, status: 'creating', size: 1, name: 'snap', metadata: {}, created_at: '2024' };
    for (const [max, force, want] of [
      ['3.70', true, undefined],
      ['3.65', true, true],
      ['3.65', false, undefined],
      ['3.65', undefined, undefined],
    ] as const) {
      const t = cinder(max).on('POST', /\/snapshots$/, jsonReply(202, { snapshot: snap }));
      const c = noauthClient(t);
      await c.createSnapshot({ volumeId: VOL_ID, name: 'snap', force });
      expect((bodyOf(t.requests.at(-1)).snapshot as Record<string, unknown>).force).toBe(want);
    }
  });

  it('createAttachment: never instance_uuid; mode from 3.54; ro below 3.54 fails', async () => {
    const attachment = {
      id: 'att-1',
      status: 'reserved',
      instance: null,
      volume_id: VOL_ID,
      attached_at: '',
      detached_at: '',
      attach_mode: 'null',
      connection_info: { driver_volume_type: 'iscsi', target_portal: '127.0.0.1:3260', target_iqn: 'iqn.2010-10.org.openstack:x', target_lun: 1 },
    };
    const connector = { initiator: 'iqn.1993-08.org.debian:01:abc', ip: '10.0.0.5', host: 'node-a', multipath: false, platform: 'x86_64', os_type: 'linux' };
    const t = cinder('3.70').on('POST', /\/attachments$/, jsonReply(200, { attachment }));
    const c = noauthClient(t);
    const a = await c.createAttachment({ volumeId: VOL_ID, connector, mode: 'ro' });
    expect(a).toMatchObject({ id: 'att-1', attachMode: undefined, attachedAt: undefined, instance: undefined });
    expect(bodyOf(t.requests.at(-1))).toEqual({ attachment: { volume_uuid: VOL_ID, connector, mode: 'ro' } });

    const old = cinder('3.50').on('POST', /\/attachments$/, jsonReply(200, { attachment }));
    const c2 = noauthClient(old);
    await c2.createAttachment({ volumeId: VOL_ID, connector, mode: 'rw' });
    expect(bodyOf(old.requests.at(-1))).toEqual({ attachment: { volume_uuid: VOL_ID, connector } });
    const err = await c2.createAttachment({ volumeId: VOL_ID, connector, mode: 'ro' }).catch((e: unknown) => e);
    expect(mapError(err).code).toBe(Code.FAILED_PRECONDITION);
    expect(old.count('POST', /\/attachments$/)).toBe(1);
  });

  it('getVolumeType by name reads extra specs and multiattach', async () => {
    const t = cinder()
      .on('GET', /\/types$/, jsonReply(200, { volume_types: [{ id: '11111111-2222-3333-4444-555555555555', name: 'shared', extra_specs: {} }] }))
      .on('GET', /\/types\/[^/]+\/extra_specs$/, jsonReply(200, { extra_specs: { multiattach: '<is> True', volume_backend_name: 'file' } }));
    const c = noauthClient(t);
    expect(await c.getVolumeType('shared')).toMatchObject({ name: 'shared', isMultiattach: true, extraSpecs: { volume_backend_name: 'file' } });
    await expect(c.getVolumeType('nope')).rejects.toSatisfy(isNotFound);
  });

  it('quota usage of the session project', async () => {
    const t = cinder().on(
      'GET',
      /\/os-quota-sets\/[^/?]+\?usage=true$/,
      jsonReply(200, { quota_set: { id: PROJECT, volumes: { limit: 10, in_use: 2, reserved: 0 }, gigabytes: { limit: 1000, in_use: 3, reserved: 1 } } }),
    );
    const c = noauthClient(t);
    expect(await c.getQuotaUsage()).toEqual({ volumes: { limit: 10, inUse: 2, reserved: 0 }, gigabytes: { limit: 1000, inUse: 3, reserved: 1 } });
    expect(t.requests.at(-1)?.url).toBe(`${ENDPOINT}/os-quota-sets/${PROJECT}?usage=true`);
  });
});

describe('secrets never leak', () => {
  it('planted password, token and app-credential secret stay out of errors and log lines', async () => {
    const PW = 'pw-PLANTED-1a2b3c4d';
    const TOKEN = 'gAAAAA-TOKEN-PLANTED-5e6f7a8b';
    const cap = capturingLogger('trace');
    let issued = 0;
    const t = new FakeTransport()
      .on('POST', /auth\/tokens$/, () => tokenReply(issued++ === 0 ? TOKEN : `${TOKEN}-2`))
      .on('GET', /:8776\/$/, versionDocument())
      // a server that echoes the request's secrets back in its errors
      .on('GET', /\/volumes\/[^/]+$/, (req) => cinderFault(400, 'badRequest', `bad token ${req.headers?.['X-Auth-Token'] ?? ''} for user with password ${PW}`))
      .on('POST', /\/volumes$/, networkError('ECONNRESET'))
      .on('DELETE', /\/volumes\//, cinderFault(500, 'computeFault', `trace: X-Auth-Token: ${TOKEN}`));
    const c = new HttpCinderClient({ ...passwordConfig, password: PW }, { transport: t, log: cap.log, metrics: createCinderMetrics(new Registry()), sleep: async () => undefined });
    const errors = await Promise.all([
      c.getVolume(VOL_ID).catch((e: unknown) => e),
      c.createVolume({ name: 'x', size: 1 }).catch((e: unknown) => e),
      c.deleteVolume(VOL_ID).catch((e: unknown) => e),
    ]);
    for (const err of errors) {
      expect(err).toBeInstanceOf(CinderError);
      cap.log.error({ err }, 'call failed');
      const text = `${(err as Error).message} ${(err as CinderError).describe()} ${JSON.stringify(err)} ${String((err as Error).stack)}`;
      expect(text).not.toContain(PW);
      expect(text).not.toContain(TOKEN);
    }
    expect((errors[0] as Error).message).toContain('[REDACTED]');
    const logs = cap.text();
    expect(cap.lines.length).toBeGreaterThan(5);
    expect(logs).not.toContain(PW);
    expect(logs).not.toContain(TOKEN);
  });
});

describe('metrics', () => {
  it('labels by route template and status class, never by id', async () => {
    const registry = new Registry();
    const t = cinder()
      .on('GET', /\/volumes\/[^/]+$/, jsonReply(200, { volume: volumeBody() }))
      .on('DELETE', /\/volumes\/[^/]+$/, cinderFault(404, 'itemNotFound', 'gone'));
    const c = noauthClient(t, { metrics: createCinderMetrics(registry) });
    await c.getVolume(VOL_ID);
    await c.deleteVolume(VOL_ID).catch(() => undefined);
    const text = await registry.metrics();
    expect(text).toContain('cinder_metal_csi_cinder_requests_total{service="cinder",route="/volumes/{id}",method="GET",status_class="2xx"} 1');
    expect(text).toContain('cinder_metal_csi_cinder_requests_total{service="cinder",route="/volumes/{id}",method="DELETE",status_class="4xx"} 1');
    expect(text).toContain('cinder_metal_csi_cinder_request_errors_total{service="cinder",route="/volumes/{id}",method="DELETE",kind="http_404"} 1');
    expect(text).toMatch(/cinder_metal_csi_cinder_request_duration_seconds_count\{service="cinder",route="\/volumes\/\{id\}",method="GET"\} 1/);
    expect(text).not.toContain(VOL_ID);
  });
});
