import { isUuid } from './tokens.js';

/**
 * What a CSI snapshot id names. A Cinder snapshot's id is its UUID, as it always was (PVs and
 * VolumeSnapshotContents made by earlier releases keep working); a Cinder backup taken for a
 * VolumeSnapshot (class parameter `type: backup`) is `backup:<UUID>`, so every RPC that gets the
 * id back — restore, delete, list, get — knows which Cinder resource to ask for without trying
 * both. Part of the on-disk contract: never change the prefix.
 */
export type SnapshotRef = { kind: 'snapshot'; id: string } | { kind: 'backup'; id: string };

const BACKUP_PREFIX = 'backup:';

/** undefined when the id cannot name anything this driver makes (answered as "not there"). */
export function parseSnapshotId(csiId: string): SnapshotRef | undefined {
  if (csiId.startsWith(BACKUP_PREFIX)) {
    const id = csiId.slice(BACKUP_PREFIX.length);
    return isUuid(id) ? { kind: 'backup', id } : undefined;
  }
  return isUuid(csiId) ? { kind: 'snapshot', id: csiId } : undefined;
}

export function backupSnapshotId(backupId: string): string {
  return BACKUP_PREFIX + backupId;
}
