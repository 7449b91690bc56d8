import { awaitShared } from '../../cinder/request.js';
import type { RpcContext } from '../../util/context.js';
import { aborted } from '../../util/errors.js';

/**
 * Coalesced lookups by CSI name (CreateVolume, CreateSnapshot). A burst of creates would
 * otherwise send one filtered list per call — 1,000 PVCs, 1,000 requests. Instead a lookup asked
 * while another is in flight waits for it to end, and all those that gathered meanwhile are
 * answered by the next round together, so a round starts only after every lookup in it was
 * asked (a result never predates its question) and an idle controller answers at once.
 *
 * A round for one name is one list filtered on that name. For several, the cheaper of: one list
 * per name, or one walk of everything carrying this cluster's tag (a page per 1,000 objects,
 * its size learned from the previous walk) — so a large cluster does not pay a long walk for a
 * pair of lookups, and a burst pays a handful of pages.
 */
export interface LookupFetch<T> {
  /** The objects named `name` (and tagged with the cluster). */
  byName(name: string, ctx: CallBudget): Promise<T[]>;
  /** Every object tagged with the cluster. */
  byCluster(ctx: CallBudget): Promise<T[]>;
}

/** What a shared round runs under: the longest deadline among its callers, no single signal. */
export interface CallBudget {
  deadline?: number;
}

const PAGE = 1000;

interface Waiting<T> {
  name: string;
  deadline?: number;
  resolve(items: T[]): void;
  reject(err: unknown): void;
}

export class NameLookups<T extends { name?: string }> {
  private queue: Waiting<T>[] = [];
  private busy = false;
  private clusterPages = 1;
  /** Rounds and requests so far, for tests and benchmarks. */
  readonly counters = { rounds: 0, byName: 0, byCluster: 0 };

  constructor(private readonly fetch: LookupFetch<T>) {}

  /** The objects named `name`, as Cinder lists them after this call was made. */
  find(name: string, ctx: Pick<RpcContext, 'signal' | 'deadline'>): Promise<T[]> {
    const shared = new Promise<T[]>((resolve, reject) => {
      this.queue.push({ name, ...(ctx.deadline !== undefined ? { deadline: ctx.deadline } : {}), resolve, reject });
    });
    if (!this.busy) void this.round();
    return awaitShared(shared, ctx, () => aborted(`looking up ${JSON.stringify(name)} in Cinder took longer than the call's deadline; retry`));
  }

  private async round(): Promise<void> {
    this.busy = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      this.counters.rounds++;
      const names = [...new Set(batch.map((w) => w.name))];
      const deadlines = batch.map((w) => w.deadline);
      const budget: CallBudget = deadlines.includes(undefined) ? {} : { deadline: Math.max(...(deadlines as number[])) };
      try {
        const found = await this.fetchFor(names, budget);
        for (const w of batch) w.resolve(found.get(w.name) ?? []);
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.busy = false;
  }

  private async fetchFor(names: string[], budget: CallBudget): Promise<Map<string, T[]>> {
    const out = new Map<string, T[]>(names.map((n) => [n, []]));
    if (names.length <= this.clusterPages) {
      this.counters.byName += names.length;
      const lists = await Promise.all(names.map((n) => this.fetch.byName(n, budget)));
      names.forEach((n, i) => out.set(n, (lists[i] ?? []).filter((o) => o.name === n)));
      return out;
    }
    this.counters.byCluster++;
    const all = await this.fetch.byCluster(budget);
    this.clusterPages = Math.max(1, Math.ceil(all.length / PAGE));
    for (const o of all) if (o.name !== undefined) out.get(o.name)?.push(o);
    return out;
  }
}
