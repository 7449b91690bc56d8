import type { CallOptions } from './request.js';

/**
 * What the batched waiter asks of a Cinder kind each tick, and the strategies' common vocabulary.
 * A strategy (poll-walk.ts, poll-changes.ts, poll-status.ts) decides which requests answer
 * "what happened to these objects"; the waiter (waiter.ts) owns timing, deadlines and verdicts.
 */

export interface PollTarget<T> {
  readonly id: string;
  /** The latest state known (given by the caller, or seen by an earlier tick). */
  readonly last?: T;
  /** Our clock: every change from this instant on must be reported. */
  readonly since: number;
  /** A wait watches for other objects (WaitOptions.watch): answer with a list, not a read by id. */
  readonly wantsList?: boolean;
}

export interface PollAnswer<T> {
  /** The current state of targets that were seen (a strategy may leave out unchanged ones). */
  seen: Map<string, T>;
  /** Targets known to no longer exist. */
  gone: Set<string>;
  /**
   * Every object the requests returned (targets or not), when they were lists: lets callers spot
   * other objects of interest — a create racing ours under the same name — without asking again.
   */
  listed?: readonly T[];
}

export interface PollSource<T> {
  poll(targets: readonly PollTarget<T>[], opts: CallOptions): Promise<PollAnswer<T>>;
}

/** The original source shape: a whole-kind listing and an optional single read. */
export interface WaiterSource<T> {
  /** Every object of the kind (one logical list call, possibly several pages). */
  listAll(opts: CallOptions): Promise<T[]>;
  /** One object, undefined when it does not exist; used when a single id waits. */
  getOne?(id: string, opts: CallOptions): Promise<T | undefined>;
}

export function isPollSource<T>(s: PollSource<T> | WaiterSource<T>): s is PollSource<T> {
  return typeof (s as Partial<PollSource<T>>).poll === 'function';
}

/** Counters a strategy keeps, merged into the waiter's stats. */
export interface PollCounters {
  listCalls: number;
  getCalls: number;
}
