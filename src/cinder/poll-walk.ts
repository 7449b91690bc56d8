import type { PollAnswer, PollCounters, PollSource, PollTarget, WaiterSource } from './poll.js';
import type { CallOptions } from './request.js';

/**
 * The whole-kind walk: with exactly one target, one GET; with more, one listing of every object
 * of the kind (a page per `osapi_max_limit` objects), where an absent target is gone. Its cost
 * grows with the project, so it is what a volume waiter falls back to only on a Cinder without
 * the 3.60 time filters (see poll-changes.ts).
 */
export function walkSource<T extends { id: string }>(src: WaiterSource<T>, counters: PollCounters, singleGet = true): PollSource<T> {
  return {
    async poll(targets: readonly PollTarget<T>[], opts: CallOptions): Promise<PollAnswer<T>> {
      const ids = new Set(targets.map((t) => t.id));
      if (singleGet && ids.size === 1 && src.getOne) {
        counters.getCalls++;
        const id = targets[0]?.id as string;
        const obj = await src.getOne(id, opts);
        return obj ? { seen: new Map([[id, obj]]), gone: new Set() } : { seen: new Map(), gone: new Set([id]) };
      }
      counters.listCalls++;
      const all = await src.listAll(opts);
      const seen = new Map<string, T>();
      for (const o of all) if (ids.has(o.id)) seen.set(o.id, o);
      const gone = new Set([...ids].filter((id) => !seen.has(id)));
      return { seen, gone, listed: all };
    },
  };
}
