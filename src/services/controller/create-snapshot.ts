import { isNotFound, isOutcomeUnknown } from '../../cinder/errors.js';
import type { Snapshot } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, alreadyExists, internal, notFound } from '../../util/errors.js';
import { META_CLUSTER } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { byAge, findOwnSnapshots, findVolume, single } from './lookup.js';
import { parseSnapshotParameters } from './parameters.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import type { SnapshotInput, SnapshotView } from './requests.js';
import { toSnapshotView } from './snapshot-view.js';
import { statusIs, waitWithin } from './wait.js';

/**
 * CreateSnapshot: idempotent by name within the cluster (name + cluster tag), the same name for
 * another source volume → ALREADY_EXISTS. `force` is asked for in-use volumes and sent by the
 * client only below 3.66.
 *
 * Decision: waits for `available` within the deadline; if Cinder is still `creating` then, it
 * answers OK with ready_to_use=false (the spec's way to say "cut, still processing") instead of
 * ABORTED, and the snapshotter re-issues the call until ready_to_use turns true. `error` →
 * the snapshot is deleted and the call fails (INTERNAL).
 */
export function createSnapshotHandler(d: HandlerDeps) {
  // Calls with one name run one after another: the second finds what the first made.
  const serial = new KeyedMutex();
  return async (req: SnapshotInput, ctx: RpcContext): Promise<SnapshotView> => {
    const { name, sourceVolumeId: sourceId } = req;
    const { metadata } = parseSnapshotParameters(req.parameters);
    return serial.run(name, () => createOrAdopt(d, name, sourceId, { ...metadata, [META_CLUSTER]: d.clusterId }, ctx), {
      signal: ctx.signal,
      abortError: () => aborted(`CreateSnapshot for ${JSON.stringify(name)} is already in progress; retry later`),
    });
  };
}

const DELETABLE: ReadonlySet<string> = new Set(['available', 'error']);

async function createOrAdopt(d: HandlerDeps, name: string, sourceId: string, metadata: Record<string, string>, ctx: RpcContext): Promise<SnapshotView> {
  let snap = single(await findOwnSnapshots(d.lookups, name, d.clusterId, ctx), 'snapshot', name);
  let loser: Snapshot | undefined;
  if (snap) {
    requireSource(snap, name, sourceId);
  } else {
    const vol = await findVolume(d.cinder, sourceId, ctx);
    if (!vol) throw notFound(`source volume ${sourceId} does not exist`);
    const created = await createOnce(d, name, sourceId, metadata, vol.status === 'in-use', ctx);
    ({ snap, loser } = await keepOldest(d, name, sourceId, created, ctx));
  }
  const [r] = await Promise.all([
    waitWithin(d.waiters.snapshots, snap, statusIs('available'), ctx, d.now),
    loser ? discardLoser(d, loser, ctx) : undefined,
  ]);
  switch (r.outcome) {
    case 'done':
      return toSnapshotView(r.object);
    case 'failed':
      await deleteQuietly(d, r.object.id, ctx);
      throw internal(`Cinder could not create snapshot ${r.object.id} of volume ${sourceId} (status ${r.object.status}); it was deleted, retry creates a new one`);
    case 'gone':
      throw aborted(`snapshot ${snap.id} disappeared while being created; retry`);
    case 'timeout':
      return toSnapshotView(r.last ?? snap);
  }
}

function requireSource(snap: Snapshot, name: string, sourceId: string): void {
  if (snap.volumeId !== sourceId) {
    throw alreadyExists(`snapshot ${JSON.stringify(name)} already exists (${snap.id}) for volume ${snap.volumeId}, not ${sourceId}`);
  }
}

async function createOnce(d: HandlerDeps, name: string, volumeId: string, metadata: Record<string, string>, force: boolean, ctx: RpcContext): Promise<Snapshot> {
  try {
    return await d.cinder.createSnapshot(
      { volumeId, name, metadata, force, description: `Created by cinder-metal-csi for cluster ${d.clusterId}` },
      ctx,
    );
  } catch (err) {
    if (isNotFound(err)) throw notFound(`source volume ${volumeId} does not exist`);
    if (!isOutcomeUnknown(err)) throw err;
    ctx.log.warn({ name }, 'CreateSnapshot: reply to POST /snapshots lost; looking the snapshot up by name');
    const again = single(await findOwnSnapshots(d.lookups, name, d.clusterId, ctx), 'snapshot', name);
    if (!again) throw err;
    return again;
  }
}

/** Two controllers racing on one name keep the oldest snapshot (see create-volume.ts). */
async function keepOldest(d: HandlerDeps, name: string, sourceId: string, created: Snapshot, ctx: RpcContext): Promise<{ snap: Snapshot; loser?: Snapshot }> {
  const owned = await findOwnSnapshots(d.lookups, name, d.clusterId, ctx);
  const contenders = owned.some((s) => s.id === created.id) ? owned : [...owned, created];
  const winner = [...contenders].sort(byAge)[0] ?? created;
  if (winner.id === created.id) return { snap: created };
  ctx.log.warn({ name, kept: winner.id, duplicate: created.id }, 'CreateSnapshot: another controller created this snapshot too; keeping the older one');
  requireSource(winner, name, sourceId);
  return { snap: winner, loser: created };
}

/**
 * Cinder has no snapshot-metadata call in our client to mark a loser, and refuses to delete a
 * snapshot still `creating`: the loser is waited for and deleted within this call's deadline.
 */
async function discardLoser(d: HandlerDeps, loser: Snapshot, ctx: RpcContext): Promise<void> {
  const r = await waitWithin(d.waiters.snapshots, loser, (s) => (DELETABLE.has(s.status) ? 'done' : 'pending'), ctx, d.now);
  if (r.outcome === 'done' || r.outcome === 'failed') await deleteQuietly(d, loser.id, ctx);
  else if (r.outcome === 'timeout') ctx.log.warn({ snapshotId: loser.id }, 'CreateSnapshot: a duplicate snapshot could not be deleted in time');
}

async function deleteQuietly(d: HandlerDeps, id: string, ctx: RpcContext): Promise<void> {
  try {
    await d.cinder.deleteSnapshot(id, ctx);
  } catch (err) {
    if (!isNotFound(err)) ctx.log.warn({ err, snapshotId: id }, 'CreateSnapshot: could not delete a snapshot it had created');
  }
}
