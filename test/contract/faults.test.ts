import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from '../helpers/log-capture.js';
import { mapError } from '../../src/csi/error-map.js';
import {
  HttpCinderClient,
  isBadRequest,
  isNotFound,
  isOutcomeUnknown,
  type CinderError,
  type Volume,
} from '../../src/cinder/index.js';
import { Code } from '../../src/csi/status-codes.js';
import { cleanupVolumes, connectorFor, statusIs, Waits } from './helpers.js';
import { buildTarget, type ContractTarget, type Variant } from './target.js';

/**
 * Fault cases: they need the emulator's fault knobs and request counters, so against a real
 * Cinder (CINDER_CONTRACT_TARGET=real) they are skipped — there is no way to make a real Cinder
 * lose a reply or hang on cue.
 */
const VARIANTS: Variant[] = ['noauth', 'password'];

describe.each(VARIANTS)('faults (emulator only: needs fault injection): %s', (variant) => {
  let target: ContractTarget;
  let client: HttpCinderClient;
  let waits: Waits;
  const created = new Set<string>();
  const emu = () => target.emulator!;
  const requests = (key: string): number => emu().stats().requests[key] ?? 0;

  beforeAll(async () => {
    target = await buildTarget(variant);
    client = target.client();
    waits = new Waits(client);
    await client.features();
  });

  afterAll(async () => {
    if (!target) return;
    emu().setFaults({});
    await cleanupVolumes(client, waits, created);
    waits.stop();
    await target.teardown();
  });

  async function ready(suffix: string): Promise<Volume> {
    const v = await client.createVolume({ name: `${target.runId}-${suffix}`, size: 1 });
    created.add(v.id);
    return waits.volume(v.id, statusIs('available'));
  }

  it.skipIf(variant === 'noauth')('token expiry: a burst of 401s costs exactly one re-authentication', async () => {
    const v = await ready('token');
    emu().resetStats();
    emu().expireTokens();
    const results = await Promise.all(Array.from({ length: 25 }, () => client.getVolume(v.id)));
    expect(results.every((r) => r.id === v.id)).toBe(true);
    expect(emu().stats().keystoneRequests['POST /v3/auth/tokens']).toBe(1);
    // each request was answered 401 once and replayed once at most
    expect(requests('GET /volumes/{id}')).toBeLessThanOrEqual(50);
    expect(emu().stats().responses['401'] ?? 0).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(variant === 'noauth')('tokens that stop working after N seconds are renewed through the 401 path', async () => {
    const v = await ready('token-ttl');
    emu().setFaults({ tokenExpirySeconds: 0.3 });
    try {
      await client.getVolume(v.id);
      await new Promise((r) => setTimeout(r, 400));
      emu().resetStats();
      await Promise.all(Array.from({ length: 10 }, () => client.getVolume(v.id)));
      expect(emu().stats().keystoneRequests['POST /v3/auth/tokens']).toBe(1);
    } finally {
      emu().setFaults({});
    }
  });

  it('a 5xx burst on a GET is retried and succeeds', async () => {
    const v = await ready('5xx');
    emu().setFaults({ routes: { 'GET /volumes/{id}': { failNext: 2, errorStatus: 503 } } });
    emu().resetStats();
    await expect(client.getVolume(v.id)).resolves.toMatchObject({ id: v.id });
    expect(requests('GET /volumes/{id}')).toBe(3);
    emu().setFaults({});
  });

  it('a 5xx on POST /volumes is not repeated: outcome unknown', async () => {
    emu().setFaults({ routes: { 'POST /volumes': { failNext: 1 } } });
    emu().resetStats();
    const err = await client.createVolume({ name: `${target.runId}-post5xx`, size: 1 }).catch((e: unknown) => e);
    emu().setFaults({});
    expect(isOutcomeUnknown(err)).toBe(true);
    expect(mapError(err).code).toBe(Code.UNAVAILABLE);
    expect(requests('POST /volumes')).toBe(1);
  });

  it('a hang ends inside the deadline with an UNAVAILABLE-kind timeout', async () => {
    const v = await ready('hang');
    emu().setFaults({ routes: { 'GET /volumes/{id}': { hang: true } } });
    try {
      const started = Date.now();
      const deadline = started + 1200;
      const err = await client.getVolume(v.id, { deadline }).catch((e: unknown) => e);
      const ended = Date.now();
      expect(err).toMatchObject({ name: 'CinderError', kind: 'timeout', status: undefined });
      expect(mapError(err).code).toBe(Code.UNAVAILABLE);
      expect(ended).toBeGreaterThanOrEqual(deadline - 50);
      expect(ended).toBeLessThan(deadline + 300);
    } finally {
      emu().setFaults({});
    }
  });

  it('a hung attempt is abandoned at the per-request timeout and retried within the deadline', async () => {
    const v = await ready('hang-retry');
    const shortTimeout = new HttpCinderClient({ ...target.config, requestTimeoutMs: 300 }, { retry: { baseDelayMs: 20, maxDelayMs: 50 } });
    try {
      await shortTimeout.features();
      emu().setFaults({ routes: { 'GET /volumes/{id}': { hang: 2 } } });
      emu().resetStats();
      const started = Date.now();
      await expect(shortTimeout.getVolume(v.id, { deadline: started + 5000 })).resolves.toMatchObject({ id: v.id });
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
      expect(requests('GET /volumes/{id}')).toBe(3);
    } finally {
      emu().setFaults({});
      shortTimeout.close();
    }
  });

  it('413 with Retry-After 1 is waited out and retried', async () => {
    emu().setFaults({ routes: { 'POST /volumes': { rateLimit: { count: 1, status: 413, retryAfterSeconds: 1 } } } });
    emu().resetStats();
    const started = Date.now();
    const v = await client.createVolume({ name: `${target.runId}-ratelimit`, size: 1 }, { deadline: started + 10_000 });
    created.add(v.id);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(requests('POST /volumes')).toBe(2);
    expect(emu().stats().responses['413']).toBe(1);
  });

  it('429 with a Retry-After beyond the deadline gives up early with UNAVAILABLE', async () => {
    emu().setFaults({ routes: { 'GET /volumes/detail': { rateLimit: { status: 429, retryAfterSeconds: 5 } } } });
    try {
      const started = Date.now();
      const err = await client.listVolumes({ limit: 1 }, { deadline: started + 2000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, retryAfter: 5 });
      expect(mapError(err).code).toBe(Code.UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      emu().setFaults({});
    }
  });

  it('a lost reply to POST /volumes is outcome-unknown; the name lookup finds exactly one volume', async () => {
    emu().setFaults({ routes: { 'POST /volumes': { loseReplyAfterCommit: 1 } } });
    emu().resetStats();
    const volName = `${target.runId}-lost`;
    const err = await client.createVolume({ name: volName, size: 1 }).catch((e: unknown) => e);
    emu().setFaults({});
    expect(isOutcomeUnknown(err)).toBe(true);
    expect((err as CinderError).kind).toBe('network');
    expect(mapError(err).code).toBe(Code.UNAVAILABLE);
    expect(requests('POST /volumes')).toBe(1);
    const found = await client.listAllVolumes({ name: volName });
    found.forEach((v) => created.add(v.id));
    expect(found).toHaveLength(1);
  });

  it('a lost reply to DELETE is retried; a retry refused because the first worked says outcome unknown', async () => {
    const v = await ready('lost-delete');
    emu().setFaults({ routes: { 'DELETE /volumes/{id}': { loseReplyAfterCommit: 1 } } });
    emu().resetStats();
    const err = await client.deleteVolume(v.id).catch((e: unknown) => e);
    emu().setFaults({});
    expect(requests('DELETE /volumes/{id}')).toBe(2);
    if (err !== undefined) {
      // the retry met a volume already deleting (400) or gone (404)
      expect(isBadRequest(err) || isNotFound(err)).toBe(true);
      expect(isOutcomeUnknown(err)).toBe(true);
    }
    await waits.volumeGone(v.id);
    created.delete(v.id);
  });

  it('measures Cinder calls per create, attach and delete', async () => {
    emu().resetStats();
    const v = await client.createVolume({ name: `${target.runId}-measure`, size: 1 });
    created.add(v.id);
    await waits.volume(v.id, statusIs('available'));
    const createCalls = { ...emu().stats().requests };
    emu().resetStats();
    const att = await client.createAttachment({ volumeId: v.id, connector: connectorFor(`${target.runId}-n`) });
    await client.completeAttachment(att.id);
    const attachCalls = { ...emu().stats().requests };
    emu().resetStats();
    await client.deleteAttachment(att.id);
    await waits.volume(v.id, statusIs('available'));
    await client.deleteVolume(v.id);
    await waits.volumeGone(v.id);
    created.delete(v.id);
    const deleteCalls = { ...emu().stats().requests };
    console.log(`[contract ${target.name}] Cinder calls: create+wait ${JSON.stringify(createCalls)}; attach ${JSON.stringify(attachCalls)}; detach+delete+wait ${JSON.stringify(deleteCalls)}`);
    expect(createCalls['POST /volumes']).toBe(1);
    expect(attachCalls).toEqual({ 'POST /attachments': 1, 'POST /attachments/{id}/action': 1 });
    expect(deleteCalls['DELETE /volumes/{id}']).toBe(1);
    expect(deleteCalls['DELETE /attachments/{id}']).toBe(1);
    expect(createCalls['GET /']).toBeUndefined(); // negotiation happened once, before
  });
});

describe('secrets (emulator only: plants its own credentials)', () => {
  let target: ContractTarget;

  beforeAll(async () => {
    target = await buildTarget('password');
  });
  afterAll(async () => {
    target.emulator?.setFaults({});
    await target?.teardown();
  });

  it('no password or token in any log line or error message', async () => {
    const cap = capturingLogger('trace');
    const client = target.client({ log: cap.log, retry: { baseDelayMs: 10, maxDelayMs: 20 } });
    const errors: unknown[] = [];
    const tokens: string[] = [];
    const keep = <T>(p: Promise<T>): Promise<T | undefined> =>
      p.catch((e: unknown) => {
        errors.push(e);
        return undefined;
      });

    await client.features();
    tokens.push((await client.auth.session()).token);
    await keep(client.getVolume('00000000-0000-0000-0000-000000000000'));
    target.emulator!.setFaults({ routes: { 'GET /volumes/detail': { failNext: 2 }, 'POST /volumes': { failNext: 1 } } });
    await keep(client.listVolumes({ limit: 1 }));
    await keep(client.createVolume({ name: 'secret-test', size: 1 }));
    target.emulator!.setFaults({});
    target.emulator!.expireTokens();
    await keep(client.listVolumes({ limit: 1 }));
    tokens.push((await client.auth.session()).token);
    const wrong = target.client({ log: cap.log });
    const planted = target.config.password as string;
    const wrongPw = `${planted}-WRONG`;
    const bad = new HttpCinderClient({ ...target.config, password: wrongPw }, { log: cap.log });
    await keep(bad.getVolume('00000000-0000-0000-0000-000000000000'));
    bad.close();
    wrong.close();
    for (const e of errors) cap.log.error({ err: e }, 'operation failed');

    expect(errors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(tokens).size).toBe(2);
    const secrets = [...target.plantedSecrets, wrongPw, ...tokens];
    const logText = cap.text();
    expect(cap.lines.length).toBeGreaterThan(10);
    for (const s of secrets) {
      expect(logText).not.toContain(s);
      for (const e of errors) {
        const err = e as Error;
        expect(`${err.message} ${String(err.stack)} ${JSON.stringify(err)}`).not.toContain(s);
      }
    }
    expect(errors.some((e) => (e as Error).name === 'KeystoneError')).toBe(true);
  });
});
