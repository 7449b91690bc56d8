import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorMessageOf, type HttpCinderClient } from '../../src/cinder/index.js';
import { cleanupVolumes, connectorFor, statusIs, Waits } from './helpers.js';
import { buildTarget, contractCases, type ContractTarget } from './target.js';

/**
 * os-retype, the same assertions against the emulator and a real Cinder: what ControllerModifyVolume
 * relies on. A type with the very same extra specs is taken in place, available or attached; one
 * that would need a migration with migration_policy never leaves the volume as it was (its status
 * back, its type unchanged) — no error status, no error answer; the API refuses the volume's own
 * type with 400 and an unknown type with 404.
 */
describe.each(contractCases())('contract os-retype: %s/%s', (kind, variant) => {
  let target: ContractTarget;
  let client: HttpCinderClient;
  let waits: Waits;
  const created = new Set<string>();
  const settled = (id: string) => waits.volume(id, (v) => (v.status === 'retyping' ? 'pending' : 'done'));

  beforeAll(async () => {
    target = await buildTarget(variant, kind);
    client = target.client();
    waits = new Waits(client);
  });

  afterAll(async () => {
    if (!target) return;
    await cleanupVolumes(client, waits, created);
    waits.stop();
    await target.teardown();
  });

  it('retypes in place where the specs allow, leaves the volume as it was where a migration would be needed, available and attached', async (t) => {
    const types = target.retypeTypes;
    if (!types.sameSpecs) t.skip();
    const v = await client.createVolume({ name: `${target.runId}-rt`, size: 1, volumeType: types.base, metadata: { 'ct-run': target.runId } });
    created.add(v.id);
    await waits.volume(v.id, statusIs('available'));

    await client.retypeVolume(v.id, types.sameSpecs, 'never');
    expect(await settled(v.id)).toMatchObject({ status: 'available', volumeType: types.sameSpecs });

    await client.retypeVolume(v.id, types.otherSpecs, 'never');
    expect(await settled(v.id)).toMatchObject({ status: 'available', volumeType: types.sameSpecs });

    // Attached: the same, and it stays attached.
    const att = await client.createAttachment({ volumeId: v.id, connector: connectorFor(`${target.runId}-node`), mode: 'rw' });
    await client.completeAttachment(att.id);
    await waits.volume(v.id, statusIs('in-use'));
    await client.retypeVolume(v.id, types.base, 'never');
    expect(await settled(v.id)).toMatchObject({ status: 'in-use', volumeType: types.base });
    await client.retypeVolume(v.id, types.otherSpecs, 'never');
    const after = await settled(v.id);
    expect(after).toMatchObject({ status: 'in-use', volumeType: types.base });
    expect(after.attachments.map((a) => a.attachmentId)).toEqual([att.id]);
    await client.deleteAttachment(att.id);
    await waits.volume(v.id, statusIs('available'));
  });

  it('refuses the volume\'s own type with 400 and an unknown type with 404', async (t) => {
    const types = target.retypeTypes;
    if (!types.sameSpecs) t.skip();
    const v = await client.createVolume({ name: `${target.runId}-rt-bad`, size: 1, volumeType: types.base, metadata: { 'ct-run': target.runId } });
    created.add(v.id);
    await waits.volume(v.id, statusIs('available'));
    const refusal = async (type: string): Promise<string> => errorMessageOf(await client.retypeVolume(v.id, type, 'never').then(() => undefined, (e: unknown) => e));
    expect(await refusal(types.base)).toMatch(/400.*Retype needs volume to be in available or in-use state/);
    expect(await refusal(`${target.runId}-no-such-type`)).toMatch(/404.*Volume type with name .*-no-such-type could not be found/);
    expect(await refusal('0b6f6d9e-8d43-4c3c-9a57-0e6f5c1d2a11')).toMatch(/404.*Volume type 0b6f6d9e-8d43-4c3c-9a57-0e6f5c1d2a11 could not be found/);
    expect((await client.getVolume(v.id)).status).toBe('available');
  });
});
