import type { CinderClient } from '../../cinder/client.js';
import { isNotFound } from '../../cinder/errors.js';
import type { Backup, Snapshot, Volume } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { failedPrecondition } from '../../util/errors.js';
import { META_CLUSTER, META_DUPLICATE_OF } from './constants.js';
import { NameLookups } from './name-lookups.js';
import { isUuid } from './tokens.js';

/**
 * Finding Cinder objects by id and by CSI name. An id that is not a UUID cannot name a Cinder
 * object: it is answered as "not there" without asking Cinder (not INVALID_ARGUMENT).
 */


export async function findVolume(cinder: CinderClient, id: string, ctx: RpcContext): Promise<Volume | undefined> {
  if (!isUuid(id)) return undefined;
  try {
    return await cinder.getVolume(id, ctx);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function findSnapshot(cinder: CinderClient, id: string, ctx: RpcContext): Promise<Snapshot | undefined> {
  if (!isUuid(id)) return undefined;
  try {
    return await cinder.getSnapshot(id, ctx);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function findBackup(cinder: CinderClient, id: string, ctx: RpcContext): Promise<Backup | undefined> {
  if (!isUuid(id)) return undefined;
  try {
    return await cinder.getBackup(id, ctx);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Statuses of an object on its way out: never adopted as "the one with this name". */
const LEAVING: ReadonlySet<string> = new Set(['deleting', 'error_deleting']);

interface Named {
  id: string;
  name?: string;
  status: string;
  metadata: Record<string, string>;
  createdAt?: string;
}

/**
 * Objects made by this cluster under this name (Cinder names are not unique: other clusters and
 * people may reuse them; only our cluster tag makes one ours). Race losers marked as duplicates
 * and objects being deleted are left out.
 */
export function ownedByName<T extends Named>(items: readonly T[], name: string, clusterId: string): T[] {
  return items.filter(
    (o) => o.name === name && o.metadata[META_CLUSTER] === clusterId && !LEAVING.has(o.status) && !o.metadata[META_DUPLICATE_OF],
  );
}

/** Oldest first (creation order decides which of racing duplicates is kept); id breaks ties. */
export function byAge<T extends Named>(a: T, b: T): number {
  const ca = a.createdAt ?? '';
  const cb = b.createdAt ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** At most one owned object, else a report naming them all (never a guess). */
export function single<T extends Named>(owned: readonly T[], kind: string, name: string): T | undefined {
  if (owned.length <= 1) return owned[0];
  throw failedPrecondition(
    `${owned.length} Cinder ${kind}s named ${JSON.stringify(name)} carry this cluster's tag (${owned.map((o) => o.id).join(', ')}); ` +
      'remove the extra ones — the driver will not guess which one is meant',
  );
}

export interface NamedVolumes {
  owned: Volume[];
  /** Race losers of this cluster and name, marked for deletion (see create-volume.ts). */
  duplicates: Volume[];
}

/** The shared name lookups of a controller (name-lookups.ts): concurrent calls share requests. */
export interface Lookups {
  volumes: NameLookups<Volume>;
  snapshots: NameLookups<Snapshot>;
  backups: NameLookups<Backup>;
}

export function createLookups(cinder: CinderClient, clusterId: string): Lookups {
  const tag = { [META_CLUSTER]: clusterId };
  return {
    volumes: new NameLookups<Volume>({
      byName: (name, budget) => cinder.listAllVolumes({ name, metadata: tag }, budget),
      byCluster: (budget) => cinder.listAllVolumes({ metadata: tag }, budget),
    }),
    snapshots: new NameLookups<Snapshot>({
      byName: (name, budget) => cinder.listAllSnapshots({ name, metadata: tag }, budget),
      byCluster: (budget) => cinder.listAllSnapshots({ metadata: tag }, budget),
    }),
    // Cinder filters backups by name but not by metadata: ownedByName drops other clusters'.
    backups: new NameLookups<Backup>({
      byName: (name, budget) => cinder.listAllBackups({ name }, budget),
      byCluster: (budget) => cinder.listAllBackups({}, budget),
    }),
  };
}

export async function findVolumesNamed(lookups: Lookups, name: string, clusterId: string, ctx: RpcContext): Promise<NamedVolumes> {
  return namedVolumes(await lookups.volumes.find(name, ctx), name, clusterId);
}

/** Splits volumes listed under one name into this cluster's volume(s) and its race losers. */
export function namedVolumes(all: readonly Volume[], name: string, clusterId: string): NamedVolumes {
  const duplicates = all.filter((v) => v.name === name && v.metadata[META_CLUSTER] === clusterId && !!v.metadata[META_DUPLICATE_OF] && !LEAVING.has(v.status));
  return { owned: ownedByName(all, name, clusterId), duplicates };
}

export async function findOwnSnapshots(lookups: Lookups, name: string, clusterId: string, ctx: RpcContext): Promise<Snapshot[]> {
  return ownedByName(await lookups.snapshots.find(name, ctx), name, clusterId);
}

export async function findOwnBackups(lookups: Lookups, name: string, clusterId: string, ctx: RpcContext): Promise<Backup[]> {
  return ownedByName(await lookups.backups.find(name, ctx), name, clusterId);
}
