import { isBadRequest, isNotFound } from '../../cinder/errors.js';
import type { Group, GroupSnapshot, Snapshot, Volume } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, alreadyExists, errorMessage, failedPrecondition, internal, invalidArgument, notFound } from '../../util/errors.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { parseCinderTime } from './cinder-time.js';
import { CINDER_META_MAX, META_CLUSTER, ownDescription } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { findVolume } from './lookup.js';
import { pollingWaiter } from './poll-waiter.js';
import type { GroupSnapshotInput, GroupSnapshotView } from './requests.js';
import { toSnapshotView } from './snapshot-view.js';
import { isUuid } from './tokens.js';
import { statusIs, waitWithin } from './wait.js';

/**
 * VolumeGroupSnapshots on Cinder's generic volume groups (design and the Cinder behaviour it
 * rests on: docs/design/volume-group-snapshots.md). Cinder snapshots a group, not a list of
 * volumes, and a volume in a group cannot be deleted; so each group snapshot has a transient
 * group of its own:
 *
 *   create group (this cluster's description, the CSI name) → add the volumes → group snapshot
 *   → remove the volumes and rename the group `vgs-<group snapshot id>` → … → delete the group
 *   snapshot (Cinder deletes its member snapshots) → delete the empty group.
 *
 * So member volumes leave the group as soon as the group snapshot exists: they can be deleted,
 * expanded and put in a later group snapshot. Every step is found again by the next call, so a
 * call that runs out of time (ABORTED, or ready_to_use false) loses nothing. The member
 * snapshots are ordinary Cinder snapshots (restorable by their id), but Cinder deletes them only
 * with their group snapshot: DeleteSnapshot of one answers FAILED_PRECONDITION.
 *
 * Consistency: Cinder's generic group snapshot snapshots the members one after another unless
 * the backend implements consistent group snapshots (`consistent_group_snapshot_enabled` in the
 * group type, honoured by few drivers): not crash-consistent across volumes in general.
 */

export const PARAM_GROUP_TYPE = 'groupType';
const METADATA_PARAMS: readonly string[] = [
  'csi.storage.k8s.io/volumegroupsnapshot/name',
  'csi.storage.k8s.io/volumegroupsnapshot/namespace',
  'csi.storage.k8s.io/volumegroupsnapshotcontent/name',
];

/** The transient group's name once its group snapshot exists: how a retry of Delete finds it. */
const releasedGroupName = (groupSnapshotId: string): string => `vgs-${groupSnapshotId}`;

/** VolumeGroupSnapshotClass parameters: the Cinder group type to use, required (no default exists). */
export function parseGroupSnapshotParameters(params: Record<string, string> | undefined, field = 'parameters'): { groupType: string } {
  let groupType: string | undefined;
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value.length > CINDER_META_MAX) throw invalidArgument(`${field}.${key} is longer than ${CINDER_META_MAX} characters`);
    if (key === PARAM_GROUP_TYPE) groupType = value;
    else if (!METADATA_PARAMS.includes(key)) throw invalidArgument(`${field}: unknown parameter ${JSON.stringify(key)} (known: ${PARAM_GROUP_TYPE})`);
  }
  if (!groupType) {
    throw invalidArgument(
      `${field}.${PARAM_GROUP_TYPE} must name a Cinder group type: Cinder has no usable default, and only an administrator can create one (openstack volume group type create)`,
    );
  }
  return { groupType };
}

const VOLUME_READY: ReadonlySet<string> = new Set(['available', 'in-use']);
const GROUP_BUSY: ReadonlySet<string> = new Set(['creating', 'updating', 'deleting']);

export function groupSnapshotHandlers(d: HandlerDeps) {
  const groups = pollingWaiter<Group>((id, o) => d.cinder.getGroup(id, o));
  const groupSnapshots = pollingWaiter<GroupSnapshot>((id, o) => d.cinder.getGroupSnapshot(id, o));
  const desc = ownDescription(d.clusterId);
  const serial = new KeyedMutex();

  const settledGroup = async (g: Group, ctx: RpcContext): Promise<Group> => {
    const r = await waitWithin(groups, g, (x) => (GROUP_BUSY.has(x.status) ? 'pending' : x.status === 'available' ? 'done' : 'failed'), ctx, d.now);
    if (r.outcome === 'done') return r.object;
    if (r.outcome === 'gone') throw aborted(`Cinder group ${g.id} disappeared; retry`);
    if (r.outcome === 'failed') throw internal(`Cinder group ${g.id} is ${r.object.status}; an administrator must look at it (the group type and every volume type must be served by one backend)`);
    throw aborted(`Cinder group ${g.id} is still ${r.last?.status ?? g.status}; retry`);
  };

  /** The snapshots cut in the group snapshot (Cinder lets no member user filter on the group snapshot). */
  const membersOf = async (gs: GroupSnapshot, ctx: RpcContext): Promise<Snapshot[]> =>
    (await d.cinder.listAllSnapshots({}, ctx)).filter((s) => s.groupSnapshotId === gs.id);

  const viewOf = async (gs: GroupSnapshot, ctx: RpcContext): Promise<GroupSnapshotView> => {
    const created = parseCinderTime(gs.createdAt);
    const snapshots = (await membersOf(gs, ctx)).map(toSnapshotView);
    return {
      groupSnapshotId: gs.id,
      snapshots,
      ...(created ? { createdAt: created } : {}),
      readyToUse: gs.status === 'available' && snapshots.every((s) => s.readyToUse),
    };
  };

  /**
   * The volumes leave the group as soon as the group snapshot exists, and the group is renamed
   * for Delete. The member snapshots (Cinder copies the group snapshot's name and description,
   * no metadata) get this cluster's tag, so ListSnapshots lists them like any other.
   */
  const release = async (gs: GroupSnapshot, ctx: RpcContext): Promise<void> => {
    for (const s of await membersOf(gs, ctx)) if (s.metadata[META_CLUSTER] !== d.clusterId) await d.cinder.setSnapshotMetadata(s.id, { [META_CLUSTER]: d.clusterId }, ctx);
    let g: Group;
    try {
      g = await d.cinder.getGroup(gs.groupId, ctx);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (g.description !== desc) return;
    const members = g.volumes ?? [];
    if (members.length === 0 && g.name === releasedGroupName(gs.id)) return;
    g = await settledGroup(g, ctx);
    await d.cinder.updateGroup(g.id, { name: releasedGroupName(gs.id), removeVolumes: g.volumes ?? [] }, ctx);
    await settledGroup({ ...g, status: 'updating' }, ctx);
  };

  /** Deletes an empty transient group of this cluster (never a group someone else made). */
  const dropGroup = async (g: Group, ctx: RpcContext): Promise<void> => {
    if (g.description !== desc) return;
    g = await settledGroup(g, ctx).catch((err: unknown) => (g.status === 'error' ? g : Promise.reject(err)));
    if ((g.volumes ?? []).length > 0) {
      await d.cinder.updateGroup(g.id, { removeVolumes: g.volumes ?? [] }, ctx);
      g = await settledGroup({ ...g, status: 'updating' }, ctx);
    }
    try {
      await d.cinder.deleteGroup(g.id, ctx);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const r = await waitWithin(groups, { ...g, status: 'deleting' }, () => 'pending', ctx, d.now);
    if (r.outcome === 'failed') throw internal(`Cinder failed to delete group ${g.id} (status ${r.object.status}); an administrator must reset it`);
    if (r.outcome === 'timeout') throw aborted(`Cinder group ${g.id} is still being deleted; retry`);
  };

  const loadVolumes = async (ids: readonly string[], ctx: RpcContext): Promise<Volume[]> => {
    const vols: Volume[] = [];
    for (const id of ids) {
      const v = await findVolume(d.cinder, id, ctx);
      if (!v) throw notFound(`source volume ${id} does not exist`);
      if (v.status.startsWith('error')) throw failedPrecondition(`source volume ${id} is ${v.status}; Cinder snapshots only available or in-use volumes`);
      if (!VOLUME_READY.has(v.status)) throw aborted(`source volume ${id} is ${v.status}; it can be snapshotted once it is available or in-use again — retry`);
      vols.push(v);
    }
    return vols;
  };

  const create = async (req: GroupSnapshotInput, ctx: RpcContext): Promise<GroupSnapshotView> => {
    const { groupType } = parseGroupSnapshotParameters(req.parameters);
    const wanted = [...new Set(req.sourceVolumeIds)].sort();
    let gs = single((await d.cinder.listAllGroupSnapshots(ctx)).filter((x) => x.name === req.name && x.description === desc && !x.status.endsWith('deleting')), req.name);
    if (gs) {
      const had = [...new Set((await membersOf(gs, ctx)).map((s) => s.volumeId))].sort();
      if (gs.status !== 'creating' && had.join() !== wanted.join()) {
        throw alreadyExists(`group snapshot ${JSON.stringify(req.name)} already exists (${gs.id}) of volumes ${had.join(', ')}, not ${wanted.join(', ')}`);
      }
    } else {
      const vols = await loadVolumes(wanted, ctx);
      let group = single((await d.cinder.listAllGroups(ctx)).filter((g) => g.name === req.name && g.description === desc && !g.status.endsWith('deleting')), req.name);
      for (const v of vols) {
        if (v.groupId && v.groupId !== group?.id) throw failedPrecondition(`volume ${v.id} is in Cinder group ${v.groupId}; a volume can be in one group at a time — retry once that group snapshot is cut`);
      }
      if (!group) {
        const types = [...new Set(vols.map((v) => v.volumeType))];
        if (types.some((t) => !t)) throw failedPrecondition('a source volume reports no volume type; Cinder groups need every member\'s type');
        try {
          const { id } = await d.cinder.createGroup({ name: req.name, description: desc, groupType, volumeTypes: types as string[] }, ctx);
          group = await d.cinder.getGroup(id, ctx);
        } catch (err) {
          if (isNotFound(err) || isBadRequest(err)) throw invalidArgument(`parameters.${PARAM_GROUP_TYPE}: Cinder refused a group of type ${JSON.stringify(groupType)} for volume types ${types.join(', ')}: ${errorMessage(err)}`);
          throw err;
        }
      }
      group = await settledGroup(group, ctx);
      const inGroup = new Set(group.volumes ?? []);
      const add = wanted.filter((id) => !inGroup.has(id));
      const remove = [...inGroup].filter((id) => !wanted.includes(id));
      if (add.length > 0 || remove.length > 0) {
        try {
          await d.cinder.updateGroup(group.id, { addVolumes: add, removeVolumes: remove }, ctx);
        } catch (err) {
          if (isBadRequest(err)) throw failedPrecondition(`Cinder cannot put volumes ${add.join(', ')} in one group: ${errorMessage(err)}`);
          throw err;
        }
        group = await settledGroup({ ...group, status: 'updating' }, ctx);
      }
      // Two adds of one volume to two groups both succeed in Cinder and leave it in one: look.
      const members = [...(group.volumes ?? [])].sort();
      if (members.join() !== wanted.join()) throw aborted(`Cinder group ${group.id} holds ${members.join(', ') || 'no volume'}, not ${wanted.join(', ')}; retry`);
      gs = await d.cinder.getGroupSnapshot((await d.cinder.createGroupSnapshot({ groupId: group.id, name: req.name, description: desc }, ctx)).id, ctx);
    }
    const r = await waitWithin(groupSnapshots, gs, statusIs('available'), ctx, d.now);
    switch (r.outcome) {
      case 'done':
        await release(r.object, ctx);
        return viewOf(r.object, ctx);
      case 'failed':
        await removeQuietly(d, r.object, ctx);
        throw internal(`Cinder could not cut group snapshot ${r.object.id} (status ${r.object.status}); it was deleted, retry creates a new one`);
      case 'gone':
        throw aborted(`group snapshot ${gs.id} disappeared while being created; retry`);
      case 'timeout':
        return viewOf(r.last ?? gs, ctx);
    }
  };

  const remove = async (id: string, ctx: RpcContext): Promise<void> => {
    if (!isUuid(id)) return;
    let gs: GroupSnapshot;
    try {
      gs = await d.cinder.getGroupSnapshot(id, ctx);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // Gone: a former call may have stopped between the group snapshot and its group.
      for (const g of (await d.cinder.listAllGroups(ctx)).filter((x) => x.name === releasedGroupName(id))) await dropGroup(await d.cinder.getGroup(g.id, ctx), ctx);
      return;
    }
    if (gs.status === 'creating') {
      const r = await waitWithin(groupSnapshots, gs, (x) => (x.status === 'creating' ? 'pending' : 'done'), ctx, d.now);
      if (r.outcome === 'timeout') throw aborted(`group snapshot ${id} is still being cut; it is deleted once that is done — retry`);
      if (r.outcome === 'gone') return;
      gs = r.object;
    }
    if (gs.status !== 'deleting') {
      try {
        await d.cinder.deleteGroupSnapshot(id, ctx);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const r = await waitWithin(groupSnapshots, { ...gs, status: 'deleting' }, () => 'pending', ctx, d.now);
    if (r.outcome === 'failed') throw internal(`Cinder failed to delete group snapshot ${id} (status ${r.object.status}); an administrator must reset it`);
    if (r.outcome === 'timeout') throw aborted(`group snapshot ${id} is still being deleted by Cinder; retry`);
    try {
      await dropGroup(await d.cinder.getGroup(gs.groupId, ctx), ctx);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  const get = async (id: string, ctx: RpcContext): Promise<GroupSnapshotView> => {
    if (!isUuid(id)) throw notFound(`group snapshot ${id} does not exist`);
    try {
      return await viewOf(await d.cinder.getGroupSnapshot(id, ctx), ctx);
    } catch (err) {
      if (isNotFound(err)) throw notFound(`group snapshot ${id} does not exist`);
      throw err;
    }
  };

  return {
    createGroupSnapshot: (req: GroupSnapshotInput, ctx: RpcContext) =>
      serial.run(req.name, () => create(req, ctx), { signal: ctx.signal, abortError: () => aborted(`CreateVolumeGroupSnapshot for ${JSON.stringify(req.name)} is already in progress; retry later`) }),
    deleteGroupSnapshot: remove,
    getGroupSnapshot: get,
  };
}

function single<T extends { id: string }>(found: readonly T[], name: string): T | undefined {
  if (found.length <= 1) return found[0];
  throw failedPrecondition(`${found.length} Cinder objects named ${JSON.stringify(name)} belong to this cluster (${found.map((x) => x.id).join(', ')}); remove the extra ones`);
}

/** A failed group snapshot is deleted with its transient group; errors only logged. */
async function removeQuietly(d: HandlerDeps, gs: GroupSnapshot, ctx: RpcContext): Promise<void> {
  try {
    await d.cinder.deleteGroupSnapshot(gs.id, ctx);
  } catch (err) {
    if (!isNotFound(err)) ctx.log.warn({ err, groupSnapshotId: gs.id }, 'CreateVolumeGroupSnapshot: could not delete a failed group snapshot');
  }
}
