import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound, type HttpCinderClient } from '../../src/cinder/index.js';
import { cleanupVolumes, connectorFor, refusal, statusIs, Waits } from './helpers.js';
import { buildTarget, contractCases, type ContractTarget } from './target.js';

/**
 * Backups, the same assertions against the emulator and a real Cinder with cinder-backup: what
 * backups-as-snapshots rely on. Creating answers 202 with the id only; the volume is
 * `backing-up` meanwhile and then as it was; an in-use volume needs `force`; `incremental` needs a
 * backup to build on and then pins it (its delete is refused while the incremental one exists);
 * a backup restores into a new, larger volume through `backup_id` (3.47; the volume stays
 * `creating` meanwhile), never into a smaller one; deleting takes it away for good.
 *
 * Against the real Cinder it runs in noauth mode only: a backup costs the real service 10-20 s of
 * copying, Keystone adds no backup-specific path to these answers, and the real-Cinder tier's
 * backup test (test/real-tier) runs the whole CSI round trip in both modes.
 */
const cases = contractCases().filter(([kind, variant]) => kind === 'emulator' || variant === 'noauth');

describe.each(cases)('contract backups: %s/%s', (kind, variant) => {
  let target: ContractTarget;
  let client: HttpCinderClient;
  let waits: Waits;
  const volumes = new Set<string>();
  const backups: string[] = [];

  beforeAll(async () => {
    target = await buildTarget(variant, kind);
    client = target.client();
    waits = new Waits(client);
  });

  afterAll(async () => {
    if (!target) return;
    // Newest first: an incremental backup goes before its parent.
    for (const id of [...backups].reverse()) {
      await client.deleteBackup(id).catch(() => undefined);
      await waits.backupGone(id, 30_000).catch(() => undefined);
    }
    await cleanupVolumes(client, waits, volumes);
    waits.stop();
    await target.teardown();
  });

  async function newVolume(suffix: string, size = 1): Promise<string> {
    const v = await client.createVolume({ name: `${target.runId}-${suffix}`, size, metadata: { 'ct-run': target.runId } });
    volumes.add(v.id);
    await waits.volume(v.id, statusIs('available'));
    return v.id;
  }

  it('backs up an available volume (backing-up meanwhile), never restores it smaller, refuses incremental without a parent, then builds on the latest and pins it', async (t) => {
    if (!target.backups) t.skip();
    const vol = await newVolume('b-src', 2);
    expect(await refusal(client.createBackup({ volumeId: vol, name: `${target.runId}-inc0`, incremental: true }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/No backups available to do an incremental backup/),
    });

    const { id: full } = await client.createBackup({ volumeId: vol, name: `${target.runId}-full`, metadata: { 'ct-run': target.runId } });
    backups.push(full);
    const during = await client.getVolume(vol);
    // The volume is backing-up until the service is done (it may be done already on a fast target).
    expect(['backing-up', 'available']).toContain(during.status);
    const done = await waits.backup(full, statusIs('available'), 120_000);
    expect(done).toMatchObject({ volumeId: vol, size: 2, isIncremental: false, hasDependentBackups: false, metadata: { 'ct-run': target.runId } });
    // Never restored into a volume smaller than the backup.
    expect(await refusal(client.createVolume({ name: `${target.runId}-small`, size: 1, backupId: full }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/cannot be smaller than the backup size 2GB/),
    });
    expect((await waits.volume(vol, statusIs('available'))).status).toBe('available');

    const { id: inc } = await client.createBackup({ volumeId: vol, name: `${target.runId}-inc`, incremental: true });
    backups.push(inc);
    expect(await waits.backup(inc, statusIs('available'), 120_000)).toMatchObject({ isIncremental: true });
    expect((await client.getBackup(full)).hasDependentBackups).toBe(true);
    expect(await refusal(client.deleteBackup(full))).toMatchObject({ status: 400, message: expect.stringMatching(/Incremental backups exist for this backup/) });

    const named = await client.listAllBackups({ name: `${target.runId}-inc` });
    expect(named.map((b) => b.id)).toEqual([inc]);
    const ofVolume = await client.listAllBackups({ volumeId: vol });
    expect(new Set(ofVolume.map((b) => b.id))).toEqual(new Set([full, inc]));

    await client.deleteBackup(inc);
    await waits.backupGone(inc);
    expect((await client.getBackup(full)).hasDependentBackups).toBe(false);
    await expect(client.getBackup(inc)).rejects.toSatisfy(isNotFound);
  });

  it('an in-use volume needs force; a backup restores into a new larger volume (creating until written, metadata replaced) and outlives its volume', async (t) => {
    if (!target.backups) t.skip();
    const vol = await newVolume('r-src');
    const att = await client.createAttachment({ volumeId: vol, connector: connectorFor(`${target.runId}-node`), mode: 'rw' });
    await client.completeAttachment(att.id);
    await waits.volume(vol, statusIs('in-use'));
    expect(await refusal(client.createBackup({ volumeId: vol, name: `${target.runId}-noforce` }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/in-use volume must use the force flag/),
    });
    const { id } = await client.createBackup({ volumeId: vol, name: `${target.runId}-forced`, force: true });
    backups.push(id);
    expect(await waits.backup(id, statusIs('available'), 120_000)).toMatchObject({ size: 1 });
    // Back to in-use, still attached.
    expect((await waits.volume(vol, statusIs('in-use'))).attachments.map((a) => a.attachmentId)).toEqual([att.id]);
    await client.deleteAttachment(att.id);
    await waits.volume(vol, statusIs('available'));

    const restored = await client.createVolume({ name: `${target.runId}-restored`, size: 2, backupId: id, metadata: { 'ct-run': target.runId, 'ct-own': 'restored' } });
    volumes.add(restored.id);
    const seen = new Set<string>();
    const ready = await waits.volume(
      restored.id,
      (v) => {
        seen.add(v.status);
        return v.status === 'available' ? 'done' : v.status.startsWith('error') ? 'failed' : 'pending';
      },
      120_000,
    );
    expect(ready).toMatchObject({ size: 2, status: 'available' });
    // A new volume stays creating until the backup service has written it (restoring-backup is
    // only for restores into an existing volume), and Cinder notes where it came from.
    expect([...seen].filter((s) => s !== 'creating' && s !== 'available')).toEqual([]);
    // The backed-up volume's metadata replaces the new volume's own; the name stays.
    expect(ready.metadata).toEqual({ 'ct-run': target.runId, src_backup_id: id });
    expect(ready.name).toBe(`${target.runId}-restored`);
    expect(await waits.backup(id, statusIs('available'))).toMatchObject({ status: 'available' });

    // The backup outlives the volume it was taken from.
    await client.deleteVolume(vol);
    await waits.volumeGone(vol);
    volumes.delete(vol);
    expect((await client.getBackup(id)).volumeId).toBe(vol);
  });
});
