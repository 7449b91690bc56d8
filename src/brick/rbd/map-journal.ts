import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../host/atomic-file.js';
import type { RbdConnection } from '../connection-data.js';

/**
 * Which images this plugin mapped, one file per image, written before `rbd map` and removed
 * after the unmap. Only the start-up sweep reads it: a mapping with an entry and no stage record
 * was left by a NodeStage killed mid-way (or a volume kubelet forgot), and is ours to remove;
 * a mapping without an entry was made by someone else and is never touched.
 */
export class MapJournal {
  constructor(private readonly dir: string) {}

  async record(conn: RbdConnection): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await replaceFileAtomically(this.file(conn), `${JSON.stringify(conn)}\n`, 0o600);
  }

  async forget(conn: Pick<RbdConnection, 'pool' | 'image'>): Promise<void> {
    await unlink(this.file(conn)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** Every recorded connection; an unreadable entry throws (the sweep then does nothing). */
  async entries(): Promise<RbdConnection[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: RbdConnection[] = [];
    for (const n of names.filter((x) => x.endsWith('.json'))) {
      const parsed: unknown = JSON.parse(await readFile(join(this.dir, n), 'utf8'));
      if (!isRbdConnection(parsed)) throw new Error(`rbd map journal entry ${n} is not an rbd connection`);
      out.push(parsed);
    }
    return out;
  }

  private file(conn: Pick<RbdConnection, 'pool' | 'image'>): string {
    return join(this.dir, `${encodeURIComponent(`${conn.pool}/${conn.image}`)}.json`);
  }
}

function isRbdConnection(v: unknown): v is RbdConnection {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  return (
    r.type === 'rbd' &&
    typeof r.pool === 'string' &&
    typeof r.image === 'string' &&
    typeof r.user === 'string' &&
    typeof r.clusterName === 'string' &&
    Array.isArray(r.monitors) &&
    r.monitors.every((m) => typeof m === 'string')
  );
}
