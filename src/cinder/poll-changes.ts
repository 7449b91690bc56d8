import type { Logger } from '../log/logger.js';
import type { CinderClient } from './client.js';
import type { Clock } from './clock.js';
import { isNotFound } from './errors.js';
import type { PollAnswer, PollCounters, PollSource, PollTarget } from './poll.js';
import { walkSource } from './poll-walk.js';
import type { CallOptions } from './request.js';
import type { Volume } from './types.js';

/**
 * Volume polling whose cost follows what is in flight, not the size of the project (Cinder
 * ≥ 3.60). A tick asks:
 *
 * 1. `status=deleting` — only when a target was last seen deleting: the volumes being deleted
 *    right now (few). A target missing from it has either finished (gone) or moved on
 *    (`error_deleting`, back to `available`); the next list tells which.
 * 2. `updated_at=gte:<since − margin>` — every volume changed since the earliest instant a
 *    target still needs, which is the start of the previous tick for targets already polled.
 *    A target changed since then is in it; one that is not, did not change. Asked after (1), so
 *    a deleting target that left (1) because it failed shows up here with its new status, and
 *    one in neither list no longer exists.
 *
 * `since` is our clock; Cinder stamps `updated_at` with its own. The margin (30 s by default)
 * absorbs clock skew between us and the Cinder services, second-rounded timestamps and commit
 * lag, at the price of re-reading what changed within it. When every target carries the
 * cluster tag, the lists are narrowed to it, which keeps other tenants' churn out.
 *
 * With a single target and nobody watching the list, a read by id is the same one request.
 *
 * A safety net covers what no list can show — a volume that went from `creating` to deleted
 * between two ticks never appears in either — and a clock off by more than the margin: a target
 * without news for `livenessMs` (10 s) is read by id, one per tick, oldest first.
 *
 * Against a Cinder older than 3.60 the filter does not exist (Cinder would drop it silently and
 * return every volume), so the source walks the project each tick as before, and says so once.
 */

export interface ChangesSourceOptions {
  client: Pick<CinderClient, 'features' | 'listAllVolumes' | 'getVolume'>;
  clock: Clock;
  log: Logger;
  counters: PollCounters;
  marginMs?: number;
  livenessMs?: number;
  /** The cluster tag (metadata key and value) the driver puts on the volumes it creates. */
  clusterTag?: { key: string; value: string };
}

export const DEFAULT_SKEW_MARGIN_MS = 30_000;
export const DEFAULT_LIVENESS_MS = 10_000;

export function volumeChangesSource(o: ChangesSourceOptions): PollSource<Volume> {
  const margin = o.marginMs ?? DEFAULT_SKEW_MARGIN_MS;
  const liveness = o.livenessMs ?? DEFAULT_LIVENESS_MS;
  const heardAt = new Map<string, number>();
  let warnedOld = false;
  const walk = walkSource<Volume>(
    {
      listAll: (opts) => o.client.listAllVolumes({}, opts),
      getOne: (id, opts) => readVolume(o.client, id, opts),
    },
    o.counters,
  );

  const tagged = (ts: readonly PollTarget<Volume>[]): Record<string, string> | undefined => {
    const tag = o.clusterTag;
    if (!tag || !ts.every((t) => t.last?.metadata?.[tag.key] === tag.value)) return undefined;
    return { [tag.key]: tag.value };
  };
  const list = async (filter: Parameters<typeof o.client.listAllVolumes>[0], ts: readonly PollTarget<Volume>[], opts: CallOptions): Promise<Volume[]> => {
    o.counters.listCalls++;
    const metadata = tagged(ts);
    return o.client.listAllVolumes({ ...filter, ...(metadata ? { metadata } : {}) }, opts);
  };

  return {
    async poll(targets, opts): Promise<PollAnswer<Volume>> {
      const features = await o.client.features(opts);
      if (!features.updatedAtFilters) {
        if (!warnedOld) {
          warnedOld = true;
          o.log.warn(
            { microversion: features.microversion },
            'waiter: this Cinder has no updated_at filters (API microversion 3.60); every status poll lists all volumes of the project',
          );
        }
        return walk.poll(targets, opts);
      }
      const lone = targets.length === 1 ? targets[0] : undefined;
      if (lone && !lone.wantsList) {
        // One volume waits: reading it by id costs the same one request and returns one volume.
        o.counters.getCalls++;
        const v = await readVolume(o.client, lone.id, opts);
        return v ? { seen: new Map([[v.id, v]]), gone: new Set() } : { seen: new Map(), gone: new Set([lone.id]) };
      }
      const now = o.clock.now();
      const ids = new Set(targets.map((t) => t.id));
      for (const id of heardAt.keys()) if (!ids.has(id)) heardAt.delete(id);
      for (const t of targets) if (!heardAt.has(t.id)) heardAt.set(t.id, now);

      const seen = new Map<string, Volume>();
      const gone = new Set<string>();
      const listed: Volume[] = [];
      const take = (vs: readonly Volume[]): void => {
        for (const v of vs) {
          listed.push(v);
          if (ids.has(v.id)) {
            seen.set(v.id, v);
            heardAt.set(v.id, now);
          }
        }
      };

      // A target whose state nobody knows (a wait started from an id alone) is read once by id:
      // a list of changes cannot tell "unchanged" from "never existed".
      for (const t of targets.filter((x) => x.last === undefined)) {
        o.counters.getCalls++;
        const v = await readVolume(o.client, t.id, opts);
        if (v) seen.set(v.id, v);
        else gone.add(t.id);
      }
      const deleting = targets.filter((t) => t.last?.status === 'deleting');
      const others = targets.filter((t) => t.last !== undefined && t.last.status !== 'deleting');
      if (deleting.length > 0) take(await list({ status: 'deleting' }, deleting, opts));
      const left = deleting.filter((t) => !seen.has(t.id));
      const need = [...others, ...left];
      if (need.length > 0) {
        const since = Math.min(...need.map((t) => t.since)) - margin;
        take(await list({ updatedSince: since }, need, opts));
      }
      for (const t of left) if (!seen.has(t.id)) gone.add(t.id);

      const quiet = others
        .filter((t) => !seen.has(t.id) && !gone.has(t.id) && now - (heardAt.get(t.id) ?? now) >= liveness)
        .sort((a, b) => (heardAt.get(a.id) ?? 0) - (heardAt.get(b.id) ?? 0))[0];
      if (quiet) {
        o.counters.getCalls++;
        const v = await readVolume(o.client, quiet.id, opts);
        heardAt.set(quiet.id, now);
        if (v) seen.set(v.id, v);
        else gone.add(quiet.id);
      }
      return { seen, gone, listed };
    },
  };
}

async function readVolume(client: Pick<CinderClient, 'getVolume'>, id: string, opts: CallOptions): Promise<Volume | undefined> {
  try {
    return await client.getVolume(id, opts);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
