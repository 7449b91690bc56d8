import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { replaceFileAtomically } from '../../host/atomic-file.js';
import { join } from 'node:path';

/**
 * Where each staged volume's stage record lives, kept in the node's state dir: one file per
 * volume id holding the record's path. The records themselves stay beside the staging paths
 * (stash.ts); this index finds them when a request names only the volume (NodeExpandVolume of a
 * raw block volume, with its optional staging path left out) and when staging paths are not
 * where kubelet usually puts them. Written after the record, removed after it: an entry whose
 * record is gone is ignored.
 */
const DIR = 'staged';

function entryPath(stateDir: string, volumeId: string): string {
  return join(stateDir, DIR, encodeURIComponent(volumeId));
}

export async function indexStage(stateDir: string, volumeId: string, stashFile: string): Promise<void> {
  await mkdir(join(stateDir, DIR), { recursive: true, mode: 0o700 });
  await replaceFileAtomically(entryPath(stateDir, volumeId), stashFile, 0o600);
}

export async function unindexStage(stateDir: string, volumeId: string, stashFile: string): Promise<void> {
  const path = entryPath(stateDir, volumeId);
  const current = await readFile(path, 'utf8').catch(() => undefined);
  // Only this staging's entry: a newer stage of the volume elsewhere keeps its own.
  if (current === stashFile) await rm(path, { force: true });
}

/** Every (volume id, record path) in the index. */
export async function indexedStages(stateDir: string): Promise<Array<{ volumeId: string; stashFile: string }>> {
  const names = await readdir(join(stateDir, DIR)).catch(() => [] as string[]);
  const out: Array<{ volumeId: string; stashFile: string }> = [];
  for (const name of names) {
    if (name.endsWith('.tmp')) continue;
    const stashFile = await readFile(join(stateDir, DIR, name), 'utf8').catch(() => undefined);
    if (stashFile) out.push({ volumeId: decodeURIComponent(name), stashFile });
  }
  return out;
}
