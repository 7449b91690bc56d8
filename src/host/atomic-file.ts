import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';

/**
 * Replaces `path` with `text` so that a reader (or a crash) sees the old content or the new,
 * never half: a temp file of its own name, created with `mode` (never wider, not even briefly),
 * synced, then renamed over the target.
 */
export async function replaceFileAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = await writeSyncedTemp(path, text, mode);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes `text` to a new temp file beside `path` (created with `mode`, never wider, not even
 * briefly), synced to disk; returns its name for the caller to rename or link into place.
 */
export async function writeSyncedTemp(path: string, text: string, mode: number): Promise<string> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return tmp;
}
