import type { PollAnswer, PollCounters, PollSource, PollTarget } from './poll.js';
import type { CallOptions } from './request.js';

/**
 * Polling by status, for kinds without time filters (snapshots): for each status the targets
 * were last seen in (`creating`, `deleting`), one list filtered on it — the objects in that
 * status right now, which is what is in flight, however large the project. A target missing
 * from its list has moved on; it is read by id once to learn where to (or that it is gone).
 * So a tick costs one list per status in flight, plus one read per object that changed.
 */
export interface StatusSourceOptions<T> {
  listByStatus(status: string, opts: CallOptions): Promise<T[]>;
  /** undefined when the object does not exist. */
  getOne(id: string, opts: CallOptions): Promise<T | undefined>;
  counters: PollCounters;
}

export function statusSource<T extends { id: string; status: string }>(o: StatusSourceOptions<T>): PollSource<T> {
  return {
    async poll(targets: readonly PollTarget<T>[], opts: CallOptions): Promise<PollAnswer<T>> {
      const seen = new Map<string, T>();
      const gone = new Set<string>();
      const listed: T[] = [];
      const byStatus = new Map<string, PollTarget<T>[]>();
      const unknown: PollTarget<T>[] = [];
      for (const t of targets) {
        if (!t.last) unknown.push(t);
        else byStatus.set(t.last.status, [...(byStatus.get(t.last.status) ?? []), t]);
      }
      for (const [status, group] of byStatus) {
        o.counters.listCalls++;
        const objs = await o.listByStatus(status, opts);
        listed.push(...objs);
        const here = new Map(objs.map((x) => [x.id, x]));
        for (const t of group) {
          const x = here.get(t.id);
          if (x) seen.set(t.id, x);
          else unknown.push(t);
        }
      }
      for (const t of unknown) {
        o.counters.getCalls++;
        const x = await o.getOne(t.id, opts);
        if (x) seen.set(t.id, x);
        else gone.add(t.id);
      }
      return { seen, gone, listed };
    },
  };
}
