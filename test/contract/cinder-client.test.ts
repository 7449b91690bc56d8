import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mapError } from '../../src/csi/error-map.js';
import {
  isBadRequest,
  isNotFound,
  isOutcomeUnknown,
  parseConnectionInfo,
  QuotaExceededError,
  type HttpCinderClient,
  type Volume,
} from '../../src/cinder/index.js';
import { Code } from '../../src/csi/status-codes.js';
import { cleanupVolumes, connectorFor, statusIs, Waits } from './helpers.js';
import { buildTarget, contractCases, type ContractTarget } from './target.js';

/** What the attachments API returns for an RBD volume (Cinder Zed's RBD driver plus the manager's keys). */
const RBD_CONNECTION_INFO_KEYS = [
  'access_mode',
  'attachment_id',
  'auth_enabled',
  'auth_username',
  'cacheable',
  'cluster_name',
  'discard',
  'driver_volume_type',
  'encrypted',
  'hosts',
  'name',
  'ports',
  'qos_specs',
  'secret_type',
  'secret_uuid',
  'volume_id',
];

/**
 * The Cinder client against a live server: the emulator by default, a real Cinder with
 * CINDER_CONTRACT_TARGET=real (see target.ts). Every assertion is about what the server said.
 */
describe.each(contractCases())('contract: %s/%s', (kind, variant) => {
  let target: ContractTarget;
  let client: HttpCinderClient;
  let waits: Waits;
  const created = new Set<string>();
  const name = (suffix: string): string => `${target.runId}-${suffix}`;

  let seq = 0;
  /**
   * Creates a volume the way the controller must: a create whose outcome is unknown (lost reply,
   * a 500 from a busy real Cinder) is looked up by its unique tag before trying again.
   */
  async function newVolume(suffix: string, extra: { size?: number; metadata?: Record<string, string>; volumeType?: string } = {}): Promise<Volume> {
    const tag = `${target.runId}-${++seq}`;
    const request = {
      name: name(suffix),
      size: extra.size ?? 1,
      metadata: { 'ct-run': target.runId, 'ct-seq': tag, ...extra.metadata },
      ...(extra.volumeType ? { volumeType: extra.volumeType } : {}),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const v = await client.createVolume(request);
        created.add(v.id);
        return v;
      } catch (err) {
        if (!isOutcomeUnknown(err) || attempt >= 3) throw err;
        const found = await client.listAllVolumes({ metadata: { 'ct-seq': tag } });
        found.forEach((v) => created.add(v.id));
        if (found.length > 1) throw new Error(`create of ${tag} produced ${found.length} volumes`);
        if (found[0]) return found[0];
      }
    }
  }

  beforeAll(async () => {
    target = await buildTarget(variant, kind);
    client = target.client();
    waits = new Waits(client);
  });

  // Each case removes what it made: a real project's default quota is only 10 volumes.
  afterEach(async () => {
    if (!target) return;
    await cleanupVolumes(client, waits, created);
    created.clear();
  });

  afterAll(async () => {
    if (!target) return;
    waits.stop();
    await target.teardown();
  });

  it('negotiates the microversion once from the version document', async () => {
    target.emulator?.resetStats();
    const [a, b] = await Promise.all([client.features(), client.features()]);
    expect(a).toEqual(b);
    const want = target.serverMaxVersion.localeCompare('3.70', undefined, { numeric: true }) > 0 ? '3.70' : target.serverMaxVersion;
    expect(a.microversion).toBe(want);
    expect(a.attachMode).toBe(Number(want.split('.')[1]) >= 54);
    if (target.emulator) {
      await client.getLimits();
      expect(target.emulator.stats().requests['GET /'] ?? 0).toBeLessThanOrEqual(1);
    }
  });

  it('creates, reads, lists, filters and deletes volumes', async () => {
    const v = await newVolume('crud', { metadata: { purpose: 'crud' } });
    expect(v).toMatchObject({ name: name('crud'), size: 1, metadata: { purpose: 'crud', 'ct-run': target.runId } });
    expect(['creating', 'available']).toContain(v.status);
    const ready = await waits.volume(v.id, statusIs('available'));
    expect(ready).toMatchObject({ id: v.id, status: 'available', multiattach: false, attachments: [] });
    expect(typeof ready.createdAt).toBe('string');

    const got = await client.getVolume(v.id);
    expect(got.id).toBe(v.id);
    expect(got.availabilityZone).toBeTruthy();
    expect(got.volumeType).toBeTruthy();

    const byName = await client.listAllVolumes({ name: name('crud') });
    expect(byName.map((x) => x.id)).toEqual([v.id]);
    const byMeta = await client.listAllVolumes({ metadata: { 'ct-run': target.runId, purpose: 'crud' } });
    expect(byMeta.map((x) => x.id)).toEqual([v.id]);
    expect(await client.listAllVolumes({ metadata: { 'ct-run': target.runId, purpose: 'nothing' } })).toEqual([]);

    await client.deleteVolume(v.id);
    await waits.volumeGone(v.id);
    const err = await client.getVolume(v.id).catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    expect(mapError(err).code).toBe(Code.NOT_FOUND);
    created.delete(v.id);
    // a second delete of a gone volume is a typed not-found, which callers treat as success
    expect(isNotFound(await client.deleteVolume(v.id).catch((e: unknown) => e))).toBe(true);
  });

  it('pages with limit/marker and never hands out a marker to the trailing empty page', async () => {
    const vols = [];
    for (let i = 0; i < 3; i++) vols.push(await newVolume('page', { metadata: { idx: String(i) } }));
    const ids = new Set(vols.map((v) => v.id));

    const p1 = await client.listVolumes({ name: name('page'), limit: 2 });
    expect(p1.items).toHaveLength(2);
    expect(p1.nextMarker).toBe(p1.items[1]?.id);
    const p2 = await client.listVolumes({ name: name('page'), limit: 2, marker: p1.nextMarker });
    expect(p2.items).toHaveLength(1);
    expect(p2.nextMarker).toBeUndefined();
    expect(new Set([...p1.items, ...p2.items].map((v) => v.id))).toEqual(ids);

    const exact = await client.listVolumes({ name: name('page'), limit: 3 });
    expect(exact.items).toHaveLength(3);
    expect(exact.nextMarker).toBeUndefined();

    // The server's own behaviour that the limit+1 rule protects against: a full last page
    // still links a next page, and that page is empty.
    const raw = await client.api.send({ method: 'GET', route: '/volumes/detail', path: '/volumes/detail', query: { name: name('page'), limit: 3 } });
    const links = (raw.body as { volumes_links?: Array<{ rel: string; href: string }> }).volumes_links ?? [];
    const next = links.find((l) => l.rel === 'next');
    expect(next).toBeDefined();
    const marker = new URL(next!.href).searchParams.get('marker');
    const trailing = await client.api.send({ method: 'GET', route: '/volumes/detail', path: '/volumes/detail', query: { name: name('page'), limit: 3, marker: marker ?? '' } });
    expect((trailing.body as { volumes: unknown[] }).volumes).toEqual([]);

    const one = await client.listAllVolumes({ metadata: { 'ct-run': target.runId, idx: '1' } });
    expect(one.map((v) => v.id)).toEqual([vols[1]?.id]);

    // an unknown marker is a typed 404
    expect(isNotFound(await client.listVolumes({ limit: 1, marker: '00000000-0000-0000-0000-000000000000' }).catch((e: unknown) => e))).toBe(true);
  });

  it('extends a volume', async () => {
    const v = await newVolume('extend');
    await waits.volume(v.id, statusIs('available'));
    await client.extendVolume(v.id, 2);
    const grown = await waits.volume(v.id, (x) => (x.status === 'available' && x.size === 2 ? 'done' : 'pending'));
    expect(grown.size).toBe(2);
    const err = await client.extendVolume(v.id, 1).catch((e: unknown) => e);
    expect(isBadRequest(err)).toBe(true);
  });

  it('creates, lists and deletes snapshots', async () => {
    const v = await newVolume('snap-src');
    await waits.volume(v.id, statusIs('available'));
    const s = await client.createSnapshot({ volumeId: v.id, name: name('snap'), metadata: { 'ct-run': target.runId } });
    expect(s).toMatchObject({ volumeId: v.id, name: name('snap'), size: 1 });
    const ready = await waits.snapshot(s.id, statusIs('available'));
    expect(ready.status).toBe('available');
    expect((await client.getSnapshot(s.id)).id).toBe(s.id);
    const listed = await client.listAllSnapshots({ volumeId: v.id });
    expect(listed.map((x) => x.id)).toEqual([s.id]);
    const page = await client.listSnapshots({ name: name('snap'), limit: 1 });
    expect(page.items.map((x) => x.id)).toEqual([s.id]);
    expect(page.nextMarker).toBeUndefined();
    // a volume with snapshots cannot be deleted: typed 400 → FAILED_PRECONDITION
    const err = await client.deleteVolume(v.id).catch((e: unknown) => e);
    expect(isBadRequest(err)).toBe(true);
    expect(mapError(err).code).toBe(Code.FAILED_PRECONDITION);
    await client.deleteSnapshot(s.id);
    await waits.snapshotGone(s.id);
    expect(isNotFound(await client.getSnapshot(s.id).catch((e: unknown) => e))).toBe(true);
  });

  it('attaches with a connector, parses connection_info, completes, and detaches', async () => {
    const v = await newVolume('attach');
    await waits.volume(v.id, statusIs('available'));
    const host = `${target.runId}-node-a`;
    const att = await client.createAttachment({ volumeId: v.id, connector: connectorFor(host), mode: 'rw' });
    expect(att).toMatchObject({ volumeId: v.id, instance: undefined });
    expect(['reserved', 'attaching']).toContain(att.status);
    expect(att.connectionInfo.driver_volume_type).toBeTruthy();
    if (target.backend !== 'fake') {
      const data = parseConnectionInfo(att.connectionInfo);
      expect(['iscsi', 'rbd', 'local']).toContain(data.type);
      expect(data.accessMode).toBe('rw');
      if (data.type === 'iscsi') expect(data.targets[0]?.iqn).toMatch(/^iqn\./);
    }

    await client.completeAttachment(att.id);
    await client.completeAttachment(att.id); // idempotent
    const inUse = await waits.volume(v.id, statusIs('in-use'));
    expect(inUse.attachments).toHaveLength(1);
    // Cinder shows the connector host only to admins (noauth runs as admin); a member sees null,
    // so the controller cannot rely on host_name alone to recognise its node.
    expect(inUse.attachments[0]?.attachmentId).toBe(att.id);
    expect(inUse.attachments[0]?.hostName).toBe(variant === 'noauth' ? host : undefined);
    const listed = await client.listAttachments({ volumeId: v.id });
    expect(listed.map((a) => a.id)).toEqual([att.id]);
    expect((await client.getAttachment(att.id)).status).toBe('attached');

    // a second attachment of a single-attach volume in use: typed 400
    const second = await client.createAttachment({ volumeId: v.id, connector: connectorFor(`${target.runId}-node-b`) }).catch((e: unknown) => e);
    expect(isBadRequest(second)).toBe(true);
    expect(mapError(second).code).toBe(Code.FAILED_PRECONDITION);

    await client.deleteAttachment(att.id);
    const back = await waits.volume(v.id, statusIs('available'));
    expect(back.attachments).toEqual([]);
    expect(isNotFound(await client.deleteAttachment(att.id).catch((e: unknown) => e))).toBe(true);
  });

  it('an RBD volume attaches with the connection_info of the Cinder RBD driver, field for field (no key in it)', async (ctx) => {
    // The real Cinder runs its RBD driver only when the tier started Ceph (CEPH=1).
    const type = kind === 'emulator' ? 'rbd' : process.env.RBD_VOLUME_TYPE;
    if (!type) return ctx.skip();
    const v = await newVolume('rbd', { volumeType: type });
    await waits.volume(v.id, statusIs('available'));
    const att = await client.createAttachment({ volumeId: v.id, connector: connectorFor(`${target.runId}-node-rbd`), mode: 'rw' });
    const info = att.connectionInfo;
    expect(Object.keys(info).sort()).toEqual(RBD_CONNECTION_INFO_KEYS);
    expect(info).toMatchObject({ driver_volume_type: 'rbd', auth_enabled: true, secret_type: 'ceph', volume_id: v.id, attachment_id: att.id, access_mode: 'rw' });
    expect(info.name).toMatch(new RegExp(`^[A-Za-z0-9_.-]+/volume-${v.id}$`));
    for (const f of ['hosts', 'ports'] as const) {
      expect(Array.isArray(info[f]) && (info[f] as unknown[]).length > 0 && (info[f] as unknown[]).every((x) => typeof x === 'string')).toBe(true);
    }
    expect((info.ports as string[]).every((p) => /^\d+$/.test(p))).toBe(true);
    expect(typeof info.cluster_name).toBe('string');
    expect(typeof info.auth_username).toBe('string');
    expect(typeof info.discard).toBe('boolean');
    const data = parseConnectionInfo(info);
    expect(data).toMatchObject({ type: 'rbd', image: `volume-${v.id}`, accessMode: 'rw' });
    await client.deleteAttachment(att.id);
    await waits.volume(v.id, statusIs('available'));
  });

  it('a volume with the read-only flag attaches ro whatever mode is asked: attach_mode says ro (access_mode only to an admin)', async () => {
    const v = await newVolume('readonly');
    await waits.volume(v.id, statusIs('available'));
    await client.api.send({ method: 'POST', route: '/volumes/{id}/action', path: `/volumes/${v.id}/action`, body: { 'os-update_readonly_flag': { readonly: true } } });
    const att = await client.createAttachment({ volumeId: v.id, connector: connectorFor(`${target.runId}-node-ro`), mode: 'rw' });
    // attach_mode says ro to everyone; connection_info's access_mode only to an admin (the volume
    // manager loads the flag from admin metadata only in an admin context). noauth runs as admin.
    expect(att.attachMode).toBe('ro');
    expect((await client.getAttachment(att.id)).attachMode).toBe('ro');
    expect(att.connectionInfo.access_mode).toBe(variant === 'noauth' ? 'ro' : 'rw');
    await client.deleteAttachment(att.id);
    await waits.volume(v.id, statusIs('available'));
    await client.api.send({ method: 'POST', route: '/volumes/{id}/action', path: `/volumes/${v.id}/action`, body: { 'os-update_readonly_flag': { readonly: false } } });
    const rw = await client.createAttachment({ volumeId: v.id, connector: connectorFor(`${target.runId}-node-rw`), mode: 'rw' });
    expect(rw.connectionInfo.access_mode).toBe('rw');
    await client.deleteAttachment(rw.id);
  });

  it('reads quota usage, limits, zones and volume types', async () => {
    const usage = await client.getQuotaUsage();
    expect(usage.volumes?.limit).toEqual(expect.any(Number));
    expect(usage.volumes?.inUse).toBeGreaterThanOrEqual(0);
    const limits = await client.getLimits();
    expect(limits.maxTotalVolumes).toEqual(expect.any(Number));
    const zones = await client.listAvailabilityZones();
    expect(zones.length).toBeGreaterThan(0);
    const types = await client.listVolumeTypes();
    expect(types.map((t) => t.name)).toContain('__DEFAULT__');
    const def = await client.getVolumeType('__DEFAULT__');
    expect(def.isMultiattach).toBe(false);
    expect((await client.getVolumeType(def.id)).name).toBe('__DEFAULT__');
    expect(isNotFound(await client.getVolumeType(`${target.runId}-no-such-type`).catch((e: unknown) => e))).toBe(true);
  });

  it('a volume over the quota is a QuotaExceededError (413, Retry-After 0)', async (ctx) => {
    if (!target.setProjectQuota) {
      ctx.skip();
      return;
    }
    const before = await client.getQuotaUsage();
    // Cinder refuses a limit below the current usage, and usage moves while earlier deletes finish:
    // set the limit to what is used right now, re-reading on refusal.
    for (let attempt = 1; ; attempt++) {
      const now = await client.getQuotaUsage();
      const used = (now.volumes?.inUse ?? 0) + (now.volumes?.reserved ?? 0);
      try {
        await target.setProjectQuota({ volumes: used });
        break;
      } catch (err) {
        if (!isBadRequest(err) || attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    try {
      const err = await client.createVolume({ name: name('over-quota'), size: 1 }).catch((e: unknown) => e);
      if (!(err instanceof Error)) created.add((err as Volume).id);
      expect(err).toBeInstanceOf(QuotaExceededError);
      expect(err).toMatchObject({ status: 413, cinderCode: 'overLimit', retryAfter: 0, outcomeUnknown: false });
      expect((err as Error).message).toMatch(/VolumeLimitExceeded/);
      expect(mapError(err).code).toBe(Code.RESOURCE_EXHAUSTED);
    } finally {
      await target.setProjectQuota({ volumes: before.volumes?.limit ?? -1 });
    }
  });
});
