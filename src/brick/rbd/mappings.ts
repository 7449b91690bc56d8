import type { HostFs } from '../../host/host-fs.js';
import type { RbdConnection } from '../connection-data.js';

/** How an image is mapped: the kernel client, or rbd-nbd (userspace librbd behind /dev/nbdN). */
export type RbdMapper = 'krbd' | 'nbd';

/** One mapped image. */
export interface RbdMapping {
  mapper: RbdMapper;
  pool: string;
  namespace: string;
  name: string;
  /** "-" for the image itself. */
  snap: string;
  device: string;
}

const SYS_RBD = '/sys/bus/rbd/devices';

/**
 * krbd mappings, read from sysfs (what `rbd showmapped` itself reads, without a spawn). A device
 * that goes away while it is read is skipped.
 */
export async function krbdMappings(fs: HostFs): Promise<RbdMapping[]> {
  const out: RbdMapping[] = [];
  for (const id of await fs.readdir(SYS_RBD)) {
    if (!/^\d+$/.test(id)) continue;
    const attr = async (name: string): Promise<string | undefined> => {
      try {
        return (await fs.readFile(`${SYS_RBD}/${id}/${name}`)).trim();
      } catch {
        return undefined;
      }
    };
    const [pool, name, snap, namespace] = await Promise.all([attr('pool'), attr('name'), attr('current_snap'), attr('pool_ns')]);
    if (pool === undefined || name === undefined) continue;
    out.push({ mapper: 'krbd', pool, namespace: namespace ?? '', name, snap: snap ?? '-', device: `/dev/rbd${id}` });
  }
  return out;
}

/**
 * `rbd device list --format json`: an array of mappings. rbd-nbd (`-t nbd`, Ceph 16) names the
 * image `image` and its id is the daemon's pid:
 * `[{"id": 436, "pool": "volumes", "namespace": "", "image": "volume-…", "snap": "-", "device": "/dev/nbd0", "cookie": ""}]`;
 * krbd's list (`rbd showmapped`) says `name`, and older releases print an object keyed by id.
 */
export function parseDeviceList(text: string, mapper: RbdMapper): RbdMapping[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  const data: unknown = JSON.parse(trimmed);
  let entries: unknown[];
  if (Array.isArray(data)) entries = data;
  else if (data && typeof data === 'object') entries = Object.values(data);
  else throw new Error('rbd device list: expected a JSON array or object');
  const out: RbdMapping[] = [];
  for (const v of entries) {
    if (!v || typeof v !== 'object') continue;
    const r = v as Record<string, unknown>;
    const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : undefined);
    const pool = str(r.pool);
    const name = str(r.image) ?? str(r.name);
    const device = str(r.device);
    if (!pool || !name || !device) continue;
    out.push({ mapper, pool, namespace: str(r.namespace) ?? '', name, snap: str(r.snap) ?? '-', device });
  }
  return out;
}

/** The image itself (not a snapshot of it, not a namespace) of this connection. */
export function isImageMapping(m: RbdMapping, conn: Pick<RbdConnection, 'pool' | 'image'>): boolean {
  return m.pool === conn.pool && m.name === conn.image && m.namespace === '' && (m.snap === '-' || m.snap === '');
}
