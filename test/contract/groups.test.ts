import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound, type Group, type GroupSnapshot, type HttpCinderClient } from '../../src/cinder/index.js';
import { pollingWaiter } from '../../src/services/controller/poll-waiter.js';
import { cleanupVolumes, connectorFor, refusal, statusIs, Waits } from './helpers.js';
import { buildTarget, contractCases, type ContractTarget } from './target.js';

/**
 * Generic volume groups and group snapshots, the same assertions against the emulator and the
 * real Cinder: what VolumeGroupSnapshots (services/controller/group-snapshots.ts) rely on.
 * Creating answers with the id only; volumes join when available or in-use and of one of the
 * group's types; a volume in a group cannot be deleted; a group snapshot cuts one ordinary
 * snapshot per member, named after it, deleted only with it; volumes may leave the group while
 * its group snapshot lives, and the group goes once its group snapshots are gone. Real Cinder in
 * noauth mode only: Keystone adds no group-specific path.
 */
const cases = contractCases().filter(([kind, variant]) => kind === 'emulator' || variant === 'noauth');

describe.each(cases)('contract groups: %s/%s', (kind, variant) => {
  let target: ContractTarget;
  let client: HttpCinderClient;
  let waits: Waits;
  const volumes = new Set<string>();
  const groupWait = () => pollingWaiter<Group>((id, o) => client.getGroup(id, o));
  const gsWait = () => pollingWaiter<GroupSnapshot>((id, o) => client.getGroupSnapshot(id, o));

  beforeAll(async () => {
    target = await buildTarget(variant, kind);
    client = target.client();
    waits = new Waits(client);
  });

  afterAll(async () => {
    if (!target) return;
    for (const gs of (await client.listAllGroupSnapshots()).filter((g) => g.name?.startsWith(target.runId))) await client.deleteGroupSnapshot(gs.id).catch(() => undefined);
    for (const g of (await client.listAllGroups()).filter((x) => x.name?.startsWith(target.runId))) {
      const full = await client.getGroup(g.id).catch(() => undefined);
      if (full?.volumes?.length) await client.updateGroup(g.id, { removeVolumes: full.volumes }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
      await client.deleteGroup(g.id).catch(() => undefined);
    }
    await cleanupVolumes(client, waits, volumes);
    waits.stop();
    await target.teardown();
  });

  const settle = async <T extends { id: string; status: string }>(w: ReturnType<typeof pollingWaiter<T>>, id: string, until: (x: T) => boolean): Promise<T> => {
    const r = await w.waitFor(id, { until: (x) => (until(x) ? 'done' : 'pending'), deadline: Date.now() + 60_000 });
    if (r.outcome !== 'done') throw new Error(`${id}: ${r.outcome}`);
    return r.object;
  };
  const gone = async <T extends { id: string; status: string }>(w: ReturnType<typeof pollingWaiter<T>>, id: string): Promise<void> => {
    const r = await w.waitFor(id, { until: () => 'pending', deadline: Date.now() + 60_000 });
    expect(r.outcome).toBe('gone');
  };

  it('a group of two volumes (one attached) is snapshotted member by member; members go only with the group snapshot; volumes leave the group meanwhile; nothing is left', async (t) => {
    const types = target.retypeTypes;
    if (!target.groupType || !types.base || !types.sameSpecs) t.skip();
    const newVolume = async (suffix: string, type = types.base): Promise<string> => {
      const v = await client.createVolume({ name: `${target.runId}-${suffix}`, size: 1, volumeType: type, metadata: { 'ct-run': target.runId } });
      volumes.add(v.id);
      await waits.volume(v.id, statusIs('available'));
      return v.id;
    };
    const a = await newVolume('ga');
    const b = await newVolume('gb');
    const other = await newVolume('gc', types.sameSpecs);
    const att = await client.createAttachment({ volumeId: b, connector: connectorFor(`${target.runId}-node`), mode: 'rw' });
    await client.completeAttachment(att.id);
    await waits.volume(b, statusIs('in-use'));

    const { id: groupId } = await client.createGroup({ name: `${target.runId}-group`, description: 'contract', groupType: target.groupType, volumeTypes: [types.base] });
    let group = await settle(groupWait(), groupId, (g) => g.status !== 'creating');
    expect(group).toMatchObject({ status: 'available', volumes: [] });

    expect(await refusal(client.updateGroup(groupId, { addVolumes: [other] }))).toMatchObject({ status: 400, message: expect.stringMatching(/is not supported by the group/) });
    await client.updateGroup(groupId, { addVolumes: [a, b] });
    group = await settle(groupWait(), groupId, (g) => g.status === 'available');
    expect([...(group.volumes ?? [])].sort()).toEqual([a, b].sort());
    expect((await client.getVolume(a)).groupId).toBe(groupId);
    expect(await refusal(client.deleteVolume(a))).toMatchObject({ status: 400, message: expect.stringMatching(/belong to a group/) });

    const { id: gsId } = await client.createGroupSnapshot({ groupId, name: `${target.runId}-gs`, description: 'contract gs' });
    const gs = await settle(gsWait(), gsId, (x) => x.status !== 'creating');
    expect(gs).toMatchObject({ status: 'available', groupId, name: `${target.runId}-gs` });
    const members = (await client.listAllSnapshots({})).filter((s) => s.groupSnapshotId === gsId);
    expect(members.map((s) => s.volumeId).sort()).toEqual([a, b].sort());
    for (const s of members) expect(s).toMatchObject({ status: 'available', name: `${target.runId}-gs`, description: 'contract gs' });
    expect(await refusal(client.deleteSnapshot(members[0]?.id ?? ''))).toMatchObject({ status: 400, message: expect.stringMatching(/must not be part of a group/) });

    // The volumes leave while the group snapshot lives; the group then cannot be snapshotted empty.
    await client.updateGroup(groupId, { removeVolumes: [a, b] });
    group = await settle(groupWait(), groupId, (g) => g.status === 'available');
    expect(group.volumes).toEqual([]);
    expect((await client.getVolume(a)).groupId).toBeUndefined();
    expect(await refusal(client.createGroupSnapshot({ groupId, name: `${target.runId}-empty` }))).toMatchObject({ status: 400, message: expect.stringMatching(/Source group cannot be empty/) });
    expect(await refusal(client.deleteGroup(groupId))).toMatchObject({ status: 400, message: expect.stringMatching(/Group has existing snapshots/) });

    await client.deleteGroupSnapshot(gsId);
    await gone(gsWait(), gsId);
    for (const s of members) await expect(client.getSnapshot(s.id)).rejects.toSatisfy(isNotFound);
    await client.deleteGroup(groupId);
    await gone(groupWait(), groupId);
    await client.deleteAttachment(att.id);
  });
});
