import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMessageOf, type HttpCinderClient, type Volume } from '../../src/cinder/index.js';
import { asArray, asObject, parseVolume } from '../../src/cinder/types.js';
import { cleanupVolumes, statusIs, Waits } from './helpers.js';
import { buildTarget, contractCases, type ContractTarget } from './target.js';

/**
 * The 3.60 `updated_at`/`created_at` comparison filters, which the volume waiter relies on to
 * ask only for what changed: the same assertions against the emulator and a real Cinder, with
 * times taken from the server's own answers (so no clock is shared) and compared to the
 * microsecond. Facts they pin down: the units of one filter are ORed, the operator is mandatory,
 * a new volume has no updated_at until its status first changes, and a volume's metadata change
 * does not touch updated_at while a rename does.
 */
describe.each(contractCases())('contract 3.60 time filters: %s/%s', (kind, variant) => {
  let target: ContractTarget;
  let client: HttpCinderClient;
  let waits: Waits;
  const created = new Set<string>();

  /** The volumes of one name matching raw query filters (strings sent exactly as given). */
  async function list(name: string, query: Record<string, string>): Promise<Volume[]> {
    const req = { method: 'GET' as const, route: '/volumes/detail', path: '/volumes/detail', query: { name, ...query } };
    const res = await client.api.send(req);
    return client.api.parse(req, res, (b) => asArray(asObject(b, 'body').volumes, 'volumes').map((v) => parseVolume(v)));
  }
  const ids = (vs: Volume[]): string[] => vs.map((v) => v.id);

  beforeAll(async () => {
    target = await buildTarget(variant, kind);
    client = target.client();
    waits = new Waits(client);
    const f = await client.features();
    expect(f.updatedAtFilters).toBe(true);
  });

  afterAll(async () => {
    if (!target) return;
    await cleanupVolumes(client, waits, created);
    waits.stop();
    await target.teardown();
  });

  it('stamps updated_at on status changes and renames, not on metadata changes; gte/gt compare to the microsecond', async () => {
    const name = `${target.runId}-tf`;
    const v = await client.createVolume({ name, size: 1, metadata: { 'ct-run': target.runId } });
    created.add(v.id);
    expect(v.updatedAt).toBeUndefined();
    // Cinder saves the volume once more just after it turned available (service_uuid and the
    // driver's shared_targets, 3.48): only then is updated_at final.
    const ready = await waits.volume(v.id, (o) => (o.status === 'available' && o.serviceUuid !== undefined ? 'done' : 'pending'));
    const stamp = ready.updatedAt as string;
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);

    expect(ids(await list(name, { updated_at: `gte:${stamp}` }))).toEqual([v.id]);
    expect(ids(await list(name, { updated_at: `gt:${stamp}` }))).toEqual([]);
    expect(ids(await list(name, { updated_at: `eq:${stamp}` }))).toEqual([v.id]);
    expect(ids(await list(name, { updated_at: `gte:${stamp}Z` }))).toEqual([v.id]);

    await client.setVolumeMetadata(v.id, { note: 'changed' });
    expect((await client.getVolume(v.id)).updatedAt).toBe(stamp);
    expect(ids(await list(name, { updated_at: `gt:${stamp}` }))).toEqual([]);

    await client.api.send({ method: 'PUT', route: '/volumes/{id}', path: `/volumes/${v.id}`, body: { volume: { description: 'renamed' } } });
    const renamed = (await client.getVolume(v.id)).updatedAt as string;
    expect(renamed > stamp).toBe(true);
    expect(ids(await list(name, { updated_at: `gt:${stamp}` }))).toEqual([v.id]);
  });

  it('ORs the units of one filter', async () => {
    const name = `${target.runId}-tf-or`;
    const v = await client.createVolume({ name, size: 1, metadata: { 'ct-run': target.runId } });
    created.add(v.id);
    const c = (await waits.volume(v.id, statusIs('available'))).createdAt as string;
    expect(ids(await list(name, { created_at: `lt:${c},gt:${c}` }))).toEqual([]);
    expect(ids(await list(name, { created_at: `lt:${c},gte:${c}` }))).toEqual([v.id]);
    expect(ids(await list(name, { created_at: `gt:2999-01-01T00:00:00,lt:2999-01-01T00:00:00` }))).toEqual([v.id]);
    // a later unit with the same operator replaces the earlier one
    expect(ids(await list(name, { created_at: `gt:1999-01-01T00:00:00,gt:2999-01-01T00:00:00` }))).toEqual([]);
  });

  it('refuses a missing or unknown operator and an unreadable time with 400', async () => {
    const refusal = async (value: string): Promise<string> => {
      const err = await list('x', { updated_at: value }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeDefined();
      return errorMessageOf(err);
    };
    expect(await refusal('after:2024-01-01T00:00:00')).toMatch(/400.*Invalid after operator/);
    expect(await refusal('2024-01-01T00:00:00')).toMatch(/400.*Invalid 2024-01-01T00 operator/);
    expect(await refusal('gte:soon')).toMatch(/400.*Invalid soon value/);
  });
});
