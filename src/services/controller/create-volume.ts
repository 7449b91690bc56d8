import { isBadRequest, isNotFound, isOutcomeUnknown } from '../../cinder/errors.js';
import type { Volume } from '../../cinder/types.js';
import type { WaitVerdict } from '../../cinder/waiter.js';
import type { RpcContext } from '../../util/context.js';
import {
  aborted,
  alreadyExists,
  errorMessage,
  failedPrecondition,
  internal,
  invalidArgument,
  notFound,
  resourceExhausted,
} from '../../util/errors.js';
import { chooseSizeGiB, DEFAULT_SIZE_GIB, sizeSatisfies } from './capacity-range.js';
import { planCreate, type CreatePlan } from './create-volume-plan.js';
import type { HandlerDeps } from './deps.js';
import { META_CLUSTER, META_DUPLICATE_OF, META_SOURCE_BACKUP, ownDescription } from './constants.js';
import { byAge, findBackup, findSnapshot, findVolume, findVolumesNamed, ownedByName, single } from './lookup.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import { isUuid } from './tokens.js';
import { backupSnapshotId } from './snapshot-ids.js';
import type { CreateVolumeInput, VolumeView } from './requests.js';
import { toVolumeView } from './volume-view.js';
import { waitWithin, type Settled } from './wait.js';

/**
 * CreateVolume (architecture §5–6). Idempotent by name within the cluster: the Cinder volume carries
 * the CSI name and the cluster tag, and every call first looks for it (lookups of concurrent
 * calls share requests, name-lookups.ts). Creation never blocks past the caller's deadline
 * (ABORTED, the retry finds the volume by name), and a lost POST reply is resolved by looking
 * again rather than creating twice.
 *
 * Two controllers racing on one name (no shared lock; leader election can overlap for a moment)
 * both find nothing and both create. They converge on the oldest volume: the others mark their
 * own as a duplicate (lookups then skip it) and delete it once Cinder lets them. Each learns of
 * the other's volume without an extra request: its wait watches the waiter's lists for volumes
 * of the same name and cluster changed since just before its own lookup — a twin was created
 * after that lookup (else the lookup had found it), so it is in those lists as soon as Cinder
 * first stamps it (within the scheduler's latency, long before a volume is ready). Where no list
 * was made — the volume was ready at once, or a Cinder below 3.60 read a lone wait by id — or
 * the POST's reply was lost, it looks up the name again after the POST, as it always did. A twin
 * that Cinder had not stamped at all by the time ours was ready would be missed; the next call
 * for that name then reports both instead of guessing.
 */
export function createVolumeHandler(d: HandlerDeps) {
  // Calls with one name run one after another: the second finds what the first made.
  const serial = new KeyedMutex();
  return async (req: CreateVolumeInput, ctx: RpcContext): Promise<VolumeView> => {
    const plan = await planCreate(d, req, ctx);
    return serial.run(plan.name, () => createOrAdopt(d, plan, ctx), {
      signal: ctx.signal,
      abortError: () => aborted(`CreateVolume for ${JSON.stringify(plan.name)} is already in progress; retry later`),
    });
  };
}

/**
 * Creation is over once Cinder leaves `creating` (or `downloading`, for image sources): a retry
 * may find the volume already attached or being extended, and that is still the volume.
 */
function created(v: Volume): WaitVerdict {
  if (v.status.startsWith('error')) return 'failed';
  return CREATING.has(v.status) ? 'pending' : 'done';
}

/**
 * A volume restored from a backup stays `creating` until the backup service has written it (Zed);
 * `restoring-backup` is Cinder's state for a restore into an existing volume, waited for alike.
 */
const CREATING: ReadonlySet<string> = new Set(['creating', 'downloading', 'restoring-backup']);

/** Statuses Cinder deletes a volume from. */
const DELETABLE: ReadonlySet<string> = new Set(['available', 'error', 'error_restoring', 'error_extending', 'error_managing']);

async function createOrAdopt(d: HandlerDeps, plan: CreatePlan, ctx: RpcContext): Promise<VolumeView> {
  const askedAt = d.now();
  const found = await findVolumesNamed(d.lookups, plan.name, d.clusterId, ctx);
  await deleteDuplicates(d, found.duplicates, ctx);
  let vol = single(found.owned, 'volume', plan.name) ?? (await findRestoredUntagged(d, plan, ctx));
  let loser: Volume | undefined;
  let result: Settled<Volume>;
  if (vol) {
    requireCompatible(vol, plan);
    result = await waitWithin(d.waiters.volumes, vol, created, ctx, d.now);
  } else {
    const size = chooseSizeGiB(plan.range, await sourceSizeGiB(d, plan, ctx));
    const post = await createOnce(d, plan, size, ctx);
    const twins = new Map<string, Volume>();
    let watched = false;
    const watch = {
      key: plan.name,
      report: (others: readonly Volume[]): void => {
        watched = true;
        for (const v of ownedByName(others, plan.name, d.clusterId)) twins.set(v.id, v);
      },
    };
    result = await waitWithin(d.waiters.volumes, post.vol, created, ctx, d.now, post.atOnce ? { since: askedAt, watch } : {});
    const others = post.atOnce && watched ? [...twins.values()] : (await findVolumesNamed(d.lookups, plan.name, d.clusterId, ctx)).owned;
    ({ vol, loser } = await keepOldest(d, plan, post.vol, others, ctx));
    if (loser) result = await waitWithin(d.waiters.volumes, vol, created, ctx, d.now);
  }
  if (loser) await discardLoser(d, loser.id, ctx);
  switch (result.outcome) {
    case 'done': {
      if (result.object.encrypted) await refuseEncrypted(d, result.object, ctx);
      const done = plan.source?.kind === 'backup' ? await retag(d, result.object, plan, ctx) : result.object;
      return toVolumeView(done, d.ignoreVolumeAz);
    }
    case 'failed':
      await deleteQuietly(d, result.object.id, ctx);
      throw internal(
        `Cinder could not create volume ${result.object.id} for ${JSON.stringify(plan.name)} (status ${result.object.status}); ` +
          'it was deleted and the next attempt creates a new one — Cinder\'s user messages (cinder message-list) tell why',
      );
    case 'gone':
      throw aborted(`volume ${vol.id} disappeared while being created; retry`);
    case 'timeout':
      throw aborted(`volume ${vol.id} is still ${result.last?.status ?? vol.status} in Cinder; retry to pick it up`);
  }
}

/**
 * Cinder's backup service ends a restore by replacing the new volume's metadata with the
 * backed-up volume's (backup/driver.py _restore_vol_meta, delete=True) and adding
 * `src_backup_id`: the cluster tag, the CSI name keys and the source record may be another
 * volume's or gone. The volume gets this plan's metadata back (Cinder's `src_backup_id` kept).
 */
async function retag(d: HandlerDeps, vol: Volume, plan: CreatePlan, ctx: RpcContext): Promise<Volume> {
  const want = restoredMetadata(vol, plan);
  const same = Object.keys(want).length === Object.keys(vol.metadata).length && Object.entries(want).every(([k, v]) => vol.metadata[k] === v);
  if (same) return vol;
  ctx.log.info({ volumeId: vol.id }, 'CreateVolume: the backup restore replaced the volume metadata; putting this volume\'s back');
  return { ...vol, metadata: await d.cinder.replaceVolumeMetadata(vol.id, want, ctx) };
}

/**
 * A restore whose metadata Cinder has replaced (see retag) but this driver has not retagged
 * yet — the call that started it ended before the restore did — carries neither the cluster tag
 * nor our source record. It still has its CSI name and this cluster's description (Cinder keeps
 * both); it is taken for this plan's volume, and retagged once done.
 */
async function findRestoredUntagged(d: HandlerDeps, plan: CreatePlan, ctx: RpcContext): Promise<Volume | undefined> {
  if (plan.source?.kind !== 'backup') return undefined;
  const mine = (await d.cinder.listAllVolumes({ name: plan.name }, ctx)).filter(
    (v) => v.name === plan.name && v.description === ownDescription(d.clusterId) && v.metadata[META_CLUSTER] !== d.clusterId && !v.status.endsWith('deleting'),
  );
  const vol = single(mine, 'volume', plan.name);
  if (!vol) return undefined;
  ctx.log.warn({ volumeId: vol.id, name: plan.name }, 'CreateVolume: found the restored volume by name and description, its metadata replaced by the restore');
  return { ...vol, metadata: await d.cinder.replaceVolumeMetadata(vol.id, restoredMetadata(vol, plan), ctx) };
}

/** This plan's metadata, and Cinder's note of the backup once the restore has set it. */
function restoredMetadata(vol: Volume, plan: CreatePlan): Record<string, string> {
  const src = vol.metadata.src_backup_id;
  return { ...plan.metadata, ...(src ? { src_backup_id: src } : {}) };
}

async function sourceSizeGiB(d: HandlerDeps, plan: CreatePlan, ctx: RpcContext): Promise<number> {
  const src = plan.source;
  if (!src) return DEFAULT_SIZE_GIB;
  if (src.kind === 'snapshot' || src.kind === 'backup') {
    const copy = src.kind === 'snapshot' ? await findSnapshot(d.cinder, src.id, ctx) : await findBackup(d.cinder, src.id, ctx);
    const what = src.kind === 'snapshot' ? `source snapshot ${src.id}` : `source snapshot ${backupSnapshotId(src.id)} (Cinder backup)`;
    if (!copy) throw notFound(`${what} does not exist`);
    // Cinder restores a backup into one volume at a time: the next restore waits its turn.
    if (src.kind === 'backup' && copy.status === 'restoring') throw aborted(`${what} is being restored into another volume; Cinder restores it into one at a time — retry`);
    if (copy.status !== 'available') throw failedPrecondition(`${what} is ${copy.status}, not available`);
    return copy.size;
  }
  const vol = await findVolume(d.cinder, src.id, ctx);
  if (!vol) throw notFound(`source volume ${src.id} does not exist`);
  if (vol.status !== 'available' && vol.status !== 'in-use') {
    throw failedPrecondition(`source volume ${src.id} is ${vol.status}; it can be cloned when available or in-use`);
  }
  return vol.size;
}

async function createOnce(d: HandlerDeps, plan: CreatePlan, size: number, ctx: RpcContext): Promise<{ vol: Volume; atOnce: boolean }> {
  try {
    const vol = await d.cinder.createVolume(
      {
        name: plan.name,
        size,
        metadata: plan.metadata,
        description: ownDescription(d.clusterId),
        ...(plan.volumeType ? { volumeType: plan.volumeType } : {}),
        ...(plan.zone ? { availabilityZone: plan.zone } : {}),
        ...(plan.source?.kind === 'snapshot' ? { snapshotId: plan.source.id } : {}),
        ...(plan.source?.kind === 'volume' ? { sourceVolId: plan.source.id } : {}),
        ...(plan.source?.kind === 'backup' ? { backupId: plan.source.id } : {}),
      },
      ctx,
    );
    return { vol, atOnce: true };
  } catch (err) {
    if (isNotFound(err)) {
      // The source was checked just before, so a 404 here names the volume type (or a source
      // deleted meanwhile): Cinder's message says which.
      throw plan.source ? notFound(`Cinder: ${errorMessage(err)}`) : invalidArgument(`Cinder refused the volume: ${errorMessage(err)}`);
    }
    if (plan.zone && isBadRequest(err) && /availability zone/i.test(errorMessage(err))) {
      // A zone from the StorageClass is the user's mistake; a zone from the topology requirements
      // is one Cinder cannot provision in, which the spec answers with RESOURCE_EXHAUSTED.
      const why = `Cinder cannot create volumes in availability zone ${JSON.stringify(plan.zone)}: ${errorMessage(err)}`;
      throw plan.zoneExplicit ? invalidArgument(`parameters.availability: ${why}`) : resourceExhausted(why);
    }
    if (!isOutcomeUnknown(err)) throw err;
    // The POST may have worked although its reply was lost: look before anyone creates again.
    ctx.log.warn({ name: plan.name }, 'CreateVolume: reply to POST /volumes lost; looking the volume up by name');
    const again = single((await findVolumesNamed(d.lookups, plan.name, d.clusterId, ctx)).owned, 'volume', plan.name);
    if (!again) throw err;
    return { vol: again, atOnce: false };
  }
}

/**
 * Of our volume and the twins seen (see the header), the oldest is the volume. A loser tags its
 * own volume as a duplicate (lookups then skip it, and delete it when Cinder allows) and
 * continues with the winner.
 */
async function keepOldest(d: HandlerDeps, plan: CreatePlan, ours: Volume, twins: readonly Volume[], ctx: RpcContext): Promise<{ vol: Volume; loser?: Volume }> {
  const contenders = twins.some((v) => v.id === ours.id) ? twins : [...twins, ours];
  const winner = [...contenders].sort(byAge)[0] ?? ours;
  if (winner.id === ours.id) return { vol: ours };
  ctx.log.warn({ name: plan.name, kept: winner.id, duplicate: ours.id }, 'CreateVolume: another controller created this volume too; keeping the older one');
  await d.cinder.setVolumeMetadata(ours.id, { [META_DUPLICATE_OF]: winner.id }, ctx);
  requireCompatible(winner, plan);
  return { vol: winner, loser: ours };
}

/**
 * The loser was created with the winner, so it is usually deletable once the winner is ready;
 * if not, it stays marked and a later lookup deletes it — the answer never waits for it.
 */
async function discardLoser(d: HandlerDeps, id: string, ctx: RpcContext): Promise<void> {
  const now = await findVolume(d.cinder, id, ctx).catch(() => undefined);
  if (now && DELETABLE.has(now.status)) await deleteQuietly(d, id, ctx);
}

/** Race losers left behind by earlier calls: deleted when Cinder allows, errors only logged. */
async function deleteDuplicates(d: HandlerDeps, dups: readonly Volume[], ctx: RpcContext): Promise<void> {
  for (const v of dups) if (DELETABLE.has(v.status) && v.attachments.length === 0) await deleteQuietly(d, v.id, ctx);
}

/**
 * The node has no LUKS: a volume of an encrypted type would get a plaintext file system, which
 * is worse than no volume. The volume is deleted (this call made it, or an earlier call for the
 * same name did) and the answer names the type.
 */
async function refuseEncrypted(d: HandlerDeps, vol: Volume, ctx: RpcContext): Promise<never> {
  if (DELETABLE.has(vol.status) && vol.attachments.length === 0) await deleteQuietly(d, vol.id, ctx);
  throw failedPrecondition(
    `volume type ${JSON.stringify(vol.volumeType ?? '')} is encrypted (Cinder volume ${vol.id} says encrypted=true), and this driver ` +
      'cannot open encrypted volumes: it refuses them rather than write plaintext. Use a volume type without encryption; the volume was deleted',
  );
}

async function deleteQuietly(d: HandlerDeps, id: string, ctx: RpcContext): Promise<void> {
  try {
    await d.cinder.deleteVolume(id, ctx);
  } catch (err) {
    if (!isNotFound(err)) ctx.log.warn({ err, volumeId: id }, 'CreateVolume: could not delete a volume it had created; a later call retries');
  }
}

function requireCompatible(vol: Volume, plan: CreatePlan): void {
  const problems: string[] = [];
  if (!sizeSatisfies(vol.size, plan.range)) problems.push(`its size is ${vol.size} GiB`);
  const src = contentSourceFor(vol, plan);
  const want = plan.source ? `${plan.source.kind} ${plan.source.id}` : 'none';
  if (src !== undefined && src !== want) problems.push(`its content source is ${src}, not ${want}`);
  // Cinder reports the type by name; a StorageClass naming it by id cannot be compared.
  if (plan.volumeType && !isUuid(plan.volumeType) && vol.volumeType !== plan.volumeType) {
    problems.push(`its volume type is ${JSON.stringify(vol.volumeType ?? '')}`);
  }
  if (plan.zoneExplicit && vol.availabilityZone !== plan.zone) problems.push(`it is in zone ${JSON.stringify(vol.availabilityZone ?? '')}`);
  if (plan.multiattach && !vol.multiattach) problems.push('it is not multiattach');
  if (problems.length > 0) {
    throw alreadyExists(`volume ${JSON.stringify(plan.name)} already exists (${vol.id}) but ${problems.join('; ')}`);
  }
}

/**
 * What the volume was made from, as far as can be told. A backup restore: Cinder's own
 * `src_backup_id` once the restore is over; before that our record, unless the restore has just
 * replaced the metadata (see retag) — then it cannot be told, and the name and cluster decide.
 */
function contentSourceFor(vol: Volume, plan: CreatePlan): string | undefined {
  if (vol.snapshotId) return `snapshot ${vol.snapshotId}`;
  if (vol.sourceVolId) return `volume ${vol.sourceVolId}`;
  const restored = vol.metadata.src_backup_id ?? vol.metadata[META_SOURCE_BACKUP];
  if (plan.source?.kind === 'backup' && vol.status === 'creating' && vol.metadata[META_SOURCE_BACKUP] !== plan.source.id) return undefined;
  return restored ? `backup ${restored}` : 'none';
}
