import type { RecordedRequest } from './lib.js';

/**
 * Waiter ticks seen from the emulator side. The waiter's status reads are: the changes list
 * (`GET /volumes/detail?updated_at=…`), the deleting list (`status=deleting`), the whole-project
 * walk of a Cinder below 3.60 (`/volumes/detail` with no filter but paging), and reads by id
 * (`GET /volumes/{id}`). Name lookups (`name=`) and the coalesced lookups' walk of the cluster tag
 * (`metadata=` without a time filter) are not. Reads less than 60 ms apart belong to one tick
 * (the waiter arms its next tick ≥ 100 ms after the previous one ends).
 */
export function isWaiterRead(r: RecordedRequest): boolean {
  if (r.method !== 'GET') return false;
  if (/\/volumes\/[0-9a-f-]{36}(\?|$)/.test(r.url)) return true;
  if (!r.url.includes('/volumes/detail')) return false;
  const q = new URL(r.url, 'http://x').searchParams;
  if (q.has('name')) return false;
  if (q.has('updated_at') || q.has('status')) return true;
  return !q.has('metadata');
}

export interface TickFigures {
  ticks: number;
  /** HTTP requests (pages and reads by id) per tick. */
  maxRequestsPerTick: number;
  meanRequestsPerTick: number;
  /** Logical list calls per tick (a walk of several pages counts once). */
  maxListsPerTick: number;
  meanBytesPerTick: number;
  maxBytesPerTick: number;
  nameLookups: number;
  clusterWalkPages: number;
  readsById: number;
  totalRequests: number;
  tickTimesMs: number[];
}

export function countTicks(log: readonly RecordedRequest[], from: number, to: number): TickFigures {
  const inWindow = log.filter((r) => r.at >= from && r.at <= to + 50);
  const reads = inWindow.filter(isWaiterRead);
  const clusters: RecordedRequest[][] = [];
  for (const r of reads) {
    const cur = clusters[clusters.length - 1];
    const last = cur?.[cur.length - 1];
    if (cur && last && r.at - last.at < 60) cur.push(r);
    else clusters.push([r]);
  }
  const lists = clusters.map((c) => c.filter((r) => r.url.includes('/volumes/detail') && !r.url.includes('marker=')).length);
  const bytes = clusters.map((c) => c.reduce((a, r) => a + r.bytes, 0));
  const n = Math.max(1, clusters.length);
  const lookups = inWindow.filter((r) => r.method === 'GET' && r.url.includes('/volumes/detail') && !isWaiterRead(r));
  return {
    ticks: clusters.length,
    maxRequestsPerTick: Math.max(0, ...clusters.map((c) => c.length)),
    meanRequestsPerTick: clusters.reduce((a, c) => a + c.length, 0) / n,
    maxListsPerTick: Math.max(0, ...lists),
    meanBytesPerTick: bytes.reduce((a, b) => a + b, 0) / n,
    maxBytesPerTick: Math.max(0, ...bytes),
    nameLookups: lookups.filter((r) => r.url.includes('name=')).length,
    clusterWalkPages: lookups.filter((r) => !r.url.includes('name=')).length,
    readsById: reads.filter((r) => !r.url.includes('/volumes/detail')).length,
    totalRequests: inWindow.length,
    tickTimesMs: clusters.map((c) => Math.round((c[0]?.at ?? 0) - from)),
  };
}
