import { isNotFound, isOutcomeUnknown } from '../../cinder/errors.js';
import type { Backup, Snapshot, Volume } from '../../cinder/types.js';
import type { BatchedWaiter } from '../../cinder/waiter.js';
import type { RpcContext } from '../../util/context.js';
import { aborted, alreadyExists, failedPrecondition, internal, notFound } from '../../util/errors.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { META_CLUSTER, ownDescription } from './constants.js';
import type { HandlerDeps } from './deps.js';
import { byAge, findOwnBackups, findOwnSnapshots, findVolume, single } from './lookup.js';
import { parseSnapshotParameters, type SnapshotParameters } from './parameters.js';
import type { SnapshotInput, SnapshotView } from './requests.js';
import { backupSnapshotView, toSnapshotView } from './snapshot-view.js';
import { statusIs, waitWithin } from './wait.js';

/**
 * CreateSnapshot: a Cinder snapshot, or with the class parameter `type: backup` a Cinder backup
 * (off the volume's backend, outliving the volume). Either way idempotent by name within the
 * cluster (name + cluster tag), and the same name for another source volume → ALREADY_EXISTS.
 *
 * Decision: waits for `available` within the deadline; if Cinder is still `creating` then, it
 * answers OK with ready_to_use=false (the spec's way to say "cut, still processing") instead of
 * ABORTED, and the snapshotter re-issues the call until ready_to_use turns true. `error` →
 * the copy is deleted and the call fails (INTERNAL).
 *
 * In-use volumes: a snapshot asks for `force` (sent by the client only below 3.66); a backup
 * always needs `force` there, and Cinder then backs up a temporary copy, not the live device.
 */
export function createSnapshotHandler(d: HandlerDeps) {
  // Calls with one name run one after another: the second finds what the first made.
  const serial = new KeyedMutex();
  return async (req: SnapshotInput, ctx: RpcContext): Promise<SnapshotView> => {
    const { name, sourceVolumeId } = req;
    const params = parseSnapshotParameters(req.parameters);
    const metadata = { ...params.metadata, [META_CLUSTER]: d.clusterId };
    const run = () =>
      params.kind === 'backup'
        ? createOrAdopt(d, backupKind(d, params), name, sourceVolumeId, metadata, ctx)
        : createOrAdopt(d, snapshotKind(d), name, sourceVolumeId, metadata, ctx);
    return serial.run(name, run, {
      signal: ctx.signal,
      abortError: () => aborted(`CreateSnapshot for ${JSON.stringify(name)} is already in progress; retry later`),
    });
  };
}

interface Copy {
  id: string;
  name?: string;
  volumeId: string;
  status: string;
  metadata: Record<string, string>;
  createdAt?: string;
}

/** What differs between a Cinder snapshot and a Cinder backup; the flow below is the same. */
interface CopyKind<T extends Copy> {
  noun: 'snapshot' | 'backup';
  findOwn(name: string, ctx: RpcContext): Promise<T[]>;
  create(vol: Volume, name: string, metadata: Record<string, string>, ctx: RpcContext): Promise<T>;
  remove(id: string, ctx: RpcContext): Promise<void>;
  waiter: Pick<BatchedWaiter<T>, 'waitFor'>;
  view(copy: T): SnapshotView;
}

const description = (d: HandlerDeps) => ownDescription(d.clusterId);

function snapshotKind(d: HandlerDeps): CopyKind<Snapshot> {
  return {
    noun: 'snapshot',
    findOwn: (name, ctx) => findOwnSnapshots(d.lookups, name, d.clusterId, ctx),
    create: (vol, name, metadata, ctx) =>
      d.cinder.createSnapshot({ volumeId: vol.id, name, metadata, force: vol.status === 'in-use', description: description(d) }, ctx),
    remove: (id, ctx) => d.cinder.deleteSnapshot(id, ctx),
    waiter: d.waiters.snapshots,
    view: toSnapshotView,
  };
}

function backupKind(d: HandlerDeps, params: SnapshotParameters): CopyKind<Backup> {
  return {
    noun: 'backup',
    findOwn: (name, ctx) => findOwnBackups(d.lookups, name, d.clusterId, ctx),
    create: async (vol, name, metadata, ctx) => {
      // Cinder refuses an incremental backup of a volume that has none to start from: the first
      // one of a volume is full, whatever the class says.
      const incremental = params.incremental && (await d.cinder.listAllBackups({ volumeId: vol.id, status: 'available' }, ctx)).length > 0;
      const { id } = await d.cinder.createBackup(
        { volumeId: vol.id, name, metadata, incremental, force: vol.status === 'in-use', description: description(d) },
        ctx,
      );
      return d.cinder.getBackup(id, ctx);
    },
    remove: (id, ctx) => d.cinder.deleteBackup(id, ctx),
    waiter: d.waiters.backups,
    view: backupSnapshotView,
  };
}

/** Statuses Cinder deletes a snapshot or backup from. */
const DELETABLE: ReadonlySet<string> = new Set(['available', 'error']);

async function createOrAdopt<T extends Copy>(
  d: HandlerDeps,
  kind: CopyKind<T>,
  name: string,
  sourceId: string,
  metadata: Record<string, string>,
  ctx: RpcContext,
): Promise<SnapshotView> {
  let copy = single(await kind.findOwn(name, ctx), kind.noun, name);
  let loser: T | undefined;
  if (copy) {
    requireSource(copy, kind, name, sourceId);
  } else {
    const vol = await findVolume(d.cinder, sourceId, ctx);
    if (!vol) throw notFound(`source volume ${sourceId} does not exist`);
    if (kind.noun === 'backup') requireBackupable(vol);
    const created = await createOnce(kind, vol, name, metadata, ctx);
    ({ copy, loser } = await keepOldest(kind, name, sourceId, created, ctx));
  }
  const [r] = await Promise.all([
    waitWithin(kind.waiter, copy, statusIs('available'), ctx, d.now),
    loser ? discardLoser(d, kind, loser, ctx) : undefined,
  ]);
  switch (r.outcome) {
    case 'done':
      return kind.view(r.object);
    case 'failed':
      await deleteQuietly(kind, r.object.id, ctx);
      throw internal(`Cinder could not create ${kind.noun} ${r.object.id} of volume ${sourceId} (status ${r.object.status}); it was deleted, retry creates a new one`);
    case 'gone':
      throw aborted(`${kind.noun} ${copy.id} disappeared while being created; retry`);
    case 'timeout':
      return kind.view(r.last ?? copy);
  }
}

/**
 * Cinder backs up volumes that are available or in-use. Any other state passes (a backup or
 * an extend running, an attach on its way), so the call is retried; an error state does not.
 */
function requireBackupable(vol: Volume): void {
  if (vol.status === 'available' || vol.status === 'in-use') return;
  if (vol.status.startsWith('error')) throw failedPrecondition(`source volume ${vol.id} is ${vol.status}; Cinder backs up only available or in-use volumes`);
  throw aborted(`source volume ${vol.id} is ${vol.status}; Cinder backs it up once it is available or in-use again — retry`);
}

function requireSource(copy: Copy, kind: { noun: string }, name: string, sourceId: string): void {
  if (copy.volumeId !== sourceId) {
    throw alreadyExists(`snapshot ${JSON.stringify(name)} already exists (Cinder ${kind.noun} ${copy.id}) for volume ${copy.volumeId}, not ${sourceId}`);
  }
}

async function createOnce<T extends Copy>(kind: CopyKind<T>, vol: Volume, name: string, metadata: Record<string, string>, ctx: RpcContext): Promise<T> {
  try {
    return await kind.create(vol, name, metadata, ctx);
  } catch (err) {
    if (isNotFound(err)) throw notFound(`source volume ${vol.id} does not exist`);
    if (!isOutcomeUnknown(err)) throw err;
    ctx.log.warn({ name }, `CreateSnapshot: reply to the ${kind.noun} POST lost; looking the ${kind.noun} up by name`);
    const again = single(await kind.findOwn(name, ctx), kind.noun, name);
    if (!again) throw err;
    return again;
  }
}

/** Two controllers racing on one name keep the oldest copy (see create-volume.ts). */
async function keepOldest<T extends Copy>(kind: CopyKind<T>, name: string, sourceId: string, created: T, ctx: RpcContext): Promise<{ copy: T; loser?: T }> {
  const owned = await kind.findOwn(name, ctx);
  const contenders = owned.some((s) => s.id === created.id) ? owned : [...owned, created];
  const winner = [...contenders].sort(byAge)[0] ?? created;
  if (winner.id === created.id) return { copy: created };
  ctx.log.warn({ name, kept: winner.id, duplicate: created.id }, `CreateSnapshot: another controller created this ${kind.noun} too; keeping the older one`);
  requireSource(winner, kind, name, sourceId);
  return { copy: winner, loser: created };
}

/**
 * The loser is not marked (the client has no snapshot or backup metadata update), and Cinder
 * refuses to delete one still `creating`: it is waited for and deleted within this call's deadline.
 */
async function discardLoser<T extends Copy>(d: HandlerDeps, kind: CopyKind<T>, loser: T, ctx: RpcContext): Promise<void> {
  const r = await waitWithin(kind.waiter, loser, (s) => (DELETABLE.has(s.status) ? 'done' : 'pending'), ctx, d.now);
  if (r.outcome === 'done' || r.outcome === 'failed') await deleteQuietly(kind, loser.id, ctx);
  else if (r.outcome === 'timeout') ctx.log.warn({ id: loser.id }, `CreateSnapshot: a duplicate ${kind.noun} could not be deleted in time`);
}

async function deleteQuietly<T extends Copy>(kind: CopyKind<T>, id: string, ctx: RpcContext): Promise<void> {
  try {
    await kind.remove(id, ctx);
  } catch (err) {
    if (!isNotFound(err)) ctx.log.warn({ err, id }, `CreateSnapshot: could not delete a ${kind.noun} it had created`);
  }
}
