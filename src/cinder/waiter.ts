import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { errorMessageOf } from './errors.js';
import { isPollSource, type PollAnswer, type PollCounters, type PollSource, type PollTarget, type WaiterSource } from './poll.js';
import { walkSource } from './poll-walk.js';
import type { CallOptions } from './request.js';

export type { WaiterSource } from './poll.js';

/**
 * Batched status polling (architecture §5). Every concurrent wait of one kind (volumes, snapshots)
 * shares one poller: per tick one poll answers for all of them, instead of one GET per object.
 * What a poll asks Cinder is the source's business (poll.ts): for volumes on Cinder ≥ 3.60 only
 * what changed since the last tick (poll-changes.ts), so a tick's cost follows what is in flight,
 * not the size of the project.
 *
 * - Ticks: the first comes `minIntervalMs` (100 ms) after a wait starts, then ×`factor` up to
 *   `maxIntervalMs` (100 ms by default: steady); a new wait resets to fast; once every wait is
 *   older than `slowAfterMs` (60 s), every `slowIntervalMs` (1 s). The poller stops when nothing
 *   waits.
 * - `error*` statuses are terminal: the wait resolves `failed` whatever `until` says.
 * - The caller's deadline resolves `timeout` (the caller answers ABORTED); its signal resolves
 *   `aborted`. A failing poll is logged and retried next tick, never fatal by itself.
 * - Waiters registered while a poll is in flight are judged on the next tick, so an object
 *   created after the poll started is not mistaken for gone.
 */

export type WaitVerdict = 'done' | 'pending' | 'failed';

export type WaitResult<T> =
  | { outcome: 'done'; object: T }
  /** An `error*` status, or `until` said failed: final; the caller cleans up and errors. */
  | { outcome: 'failed'; object: T }
  /** The object no longer exists (a delete finished; for a create: it vanished). */
  | { outcome: 'gone' }
  /** The deadline passed first; `last` is the latest state seen. */
  | { outcome: 'timeout'; last?: T; lastError?: string }
  | { outcome: 'aborted'; last?: T };

export interface WaitOptions<T> {
  until: (obj: T) => WaitVerdict;
  signal?: AbortSignal;
  /** Epoch milliseconds (per the waiter's clock). */
  deadline?: number;
  /** The object as the caller last saw it (its status tells the source what to look for). */
  current?: T;
  /** Changes from this instant on (waiter's clock) must be seen; default: now. */
  since?: number;
  /**
   * Reports the other objects whose key (BatchedWaiterOptions.keyOf) equals `key`, from every
   * poll that listed changes since `since` — how a create notices a racing twin for free.
   */
  watch?: { key: string; report: (objects: readonly T[]) => void };
}

export interface BatchedWaiterOptions<T = unknown> {
  /** For logs: "volume", "snapshot". */
  kind: string;
  clock?: Clock;
  log?: Logger;
  minIntervalMs?: number;
  maxIntervalMs?: number;
  factor?: number;
  /** Bound of one tick's Cinder calls. */
  callTimeoutMs?: number;
  /** Once every wait is older than this, tick every `slowIntervalMs` (default 60 s, 1 s). */
  slowAfterMs?: number;
  slowIntervalMs?: number;
  /** With a listAll/getOne source and exactly one waiter, GET it instead of listing (default true). */
  singleGet?: boolean;
  /** The key `watch` matches on (volumes: the name). */
  keyOf?: (obj: T) => string | null | undefined;
  /** Request counters shared with the source (a PollSource counts its own calls here). */
  counters?: PollCounters;
}

export interface WaiterStats {
  ticks: number;
  listCalls: number;
  getCalls: number;
  failedCalls: number;
  waiting: number;
}

interface Entry<T> {
  id: string;
  until: (obj: T) => WaitVerdict;
  settle: (r: WaitResult<T>) => void;
  last?: T;
  lastError?: string;
  since: number;
  startedAt: number;
  watch?: WaitOptions<T>['watch'];
}

const TERMINAL_ERROR = /^error/;

export class BatchedWaiter<T extends { id: string; status: string }> {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly min: number;
  private readonly max: number;
  private readonly factor: number;
  private readonly callTimeoutMs: number;
  private readonly slowAfter: number;
  private readonly slowInterval: number;
  private readonly keyOf: ((obj: T) => string | null | undefined) | undefined;
  private readonly source: PollSource<T>;
  private readonly entries = new Set<Entry<T>>();
  private interval: number;
  private timer: TimerHandle | undefined;
  private nextAt = 0;
  private running = false;
  private resetPending = false;
  private inflight: AbortController | undefined;
  private readonly counters = { ticks: 0, failedCalls: 0 };
  private readonly pollCounters: PollCounters;

  constructor(source: PollSource<T> | WaiterSource<T>, opts: BatchedWaiterOptions<T>) {
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.log ?? silentLogger()).child({ waiter: opts.kind });
    // One poll per tick serves every waiter of the kind, and asks only about what changed
    // (poll-changes.ts), so ticks can stay short: a status change is seen within 100 ms, ~50 ms
    // on average (benchmarks B1/B2/B9)…
    this.min = opts.minIntervalMs ?? 100;
    this.max = opts.maxIntervalMs ?? 100;
    this.factor = opts.factor ?? 1.25;
    // …and a wait that has gone on for a minute (an image download, a slow backend) is not
    // hurried: nobody gains from 100 ms there, and a lone wait is then no dearer than the
    // 1-second polling of other drivers.
    this.slowAfter = opts.slowAfterMs ?? 60_000;
    this.slowInterval = opts.slowIntervalMs ?? 1000;
    this.callTimeoutMs = opts.callTimeoutMs ?? 15_000;
    this.keyOf = opts.keyOf;
    this.pollCounters = opts.counters ?? { listCalls: 0, getCalls: 0 };
    this.source = isPollSource(source) ? source : walkSource(source, this.pollCounters, opts.singleGet ?? true);
    this.interval = this.min;
  }

  stats(): WaiterStats {
    return { ...this.counters, ...this.pollCounters, waiting: this.entries.size };
  }

  /** Whether a tick is armed or running (false = the poller is stopped). */
  active(): boolean {
    return this.timer !== undefined || this.running;
  }

  waitFor(id: string, opts: WaitOptions<T>): Promise<WaitResult<T>> {
    return new Promise<WaitResult<T>>((resolve) => {
      if (opts.signal?.aborted) {
        resolve({ outcome: 'aborted' });
        return;
      }
      const now = this.clock.now();
      if (opts.deadline !== undefined && opts.deadline <= now) {
        resolve({ outcome: 'timeout' });
        return;
      }
      let deadlineTimer: TimerHandle | undefined;
      const onAbort = (): void => entry.settle({ outcome: 'aborted', last: entry.last });
      const entry: Entry<T> = {
        id,
        until: opts.until,
        since: Math.min(now, opts.since ?? now),
        startedAt: now,
        ...(opts.current ? { last: opts.current } : {}),
        ...(opts.watch ? { watch: opts.watch } : {}),
        settle: (r) => {
          if (!this.entries.delete(entry)) return;
          if (deadlineTimer !== undefined) this.clock.clearTimeout(deadlineTimer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (this.entries.size === 0) this.idle();
          resolve(r);
        },
      };
      this.entries.add(entry);
      if (opts.deadline !== undefined) {
        deadlineTimer = this.clock.setTimeout(
          () => entry.settle({ outcome: 'timeout', last: entry.last, lastError: entry.lastError }),
          opts.deadline - now,
        );
      }
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.soon();
    });
  }

  /** Ends every wait as aborted and stops polling. */
  stop(): void {
    for (const e of [...this.entries]) e.settle({ outcome: 'aborted', last: e.last });
    this.idle();
  }

  /** A new waiter: poll fast again. */
  private soon(): void {
    this.interval = this.min;
    if (this.running) {
      this.resetPending = true;
      return;
    }
    const at = this.clock.now() + this.min;
    if (this.timer !== undefined) {
      if (this.nextAt <= at) return;
      this.clock.clearTimeout(this.timer);
    }
    this.arm(this.min);
  }

  private arm(ms: number): void {
    this.nextAt = this.clock.now() + ms;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, ms);
  }

  /** Nothing waits: disarm (a running tick finds no one and does not re-arm). */
  private idle(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.inflight?.abort();
    this.interval = this.min;
  }

  private async tick(): Promise<void> {
    const batch = [...this.entries];
    if (batch.length === 0) return;
    this.running = true;
    this.counters.ticks++;
    const ctl = new AbortController();
    this.inflight = ctl;
    const started = this.clock.now();
    const callOpts: CallOptions = { signal: ctl.signal, deadline: started + this.callTimeoutMs };
    try {
      const targets = new Map<string, PollTarget<T>>();
      for (const e of batch) {
        const t = targets.get(e.id);
        // Several waits on one id: the earliest `since` and any known state serve them all.
        const last = e.last ?? t?.last;
        targets.set(e.id, { id: e.id, since: Math.min(e.since, t?.since ?? e.since), wantsList: !!e.watch || !!t?.wantsList, ...(last ? { last } : {}) });
      }
      const answer = await this.source.poll([...targets.values()], callOpts);
      this.report(batch, answer);
      for (const e of batch) {
        e.since = started;
        if (answer.gone.has(e.id)) this.settleGone(e);
        else {
          const obj = answer.seen.get(e.id);
          if (obj) this.judge(e, obj);
        }
      }
    } catch (err) {
      if (!ctl.signal.aborted) {
        this.counters.failedCalls++;
        const msg = errorMessageOf(err);
        for (const e of batch) e.lastError = msg;
        this.log.warn({ err, waiting: this.entries.size }, 'waiter: status poll failed; trying again next tick');
      }
    } finally {
      this.running = false;
      if (this.inflight === ctl) this.inflight = undefined;
    }
    if (this.entries.size === 0) {
      this.resetPending = false;
      this.interval = this.min;
      return;
    }
    if (this.resetPending) {
      this.resetPending = false;
      this.interval = this.min;
    } else {
      this.interval = Math.min(this.max, Math.round(this.interval * this.factor));
    }
    const youngest = Math.max(...[...this.entries].map((e) => e.startedAt));
    const next = this.clock.now() - youngest >= this.slowAfter ? Math.max(this.interval, this.slowInterval) : this.interval;
    if (this.timer === undefined) this.arm(next);
  }

  /** Hands each watching entry the listed objects that share its key (one pass over the list). */
  private report(batch: readonly Entry<T>[], answer: PollAnswer<T>): void {
    if (!answer.listed || !this.keyOf) return;
    const watching = batch.filter((e) => e.watch && this.entries.has(e));
    if (watching.length === 0) return;
    const byKey = new Map<string, T[]>(watching.map((e) => [e.watch?.key as string, []]));
    for (const o of answer.listed) {
      const k = this.keyOf(o);
      if (k) byKey.get(k)?.push(o);
    }
    for (const e of watching) e.watch?.report((byKey.get(e.watch.key) ?? []).filter((o) => o.id !== e.id));
  }

  private settleGone(e: Entry<T>): void {
    if (this.entries.has(e)) e.settle({ outcome: 'gone' });
  }

  private judge(e: Entry<T>, obj: T): void {
    if (!this.entries.has(e)) return;
    e.last = obj;
    let verdict: WaitVerdict;
    try {
      verdict = e.until(obj);
    } catch (err) {
      this.log.error({ err, id: e.id }, 'waiter: the until() predicate threw; treating as failed');
      verdict = 'failed';
    }
    if (verdict === 'done') e.settle({ outcome: 'done', object: obj });
    else if (verdict === 'failed' || TERMINAL_ERROR.test(obj.status)) e.settle({ outcome: 'failed', object: obj });
  }
}
