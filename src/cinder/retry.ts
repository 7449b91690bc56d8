import type { TransportFailure } from './http.js';

/**
 * When the client tries again by itself, and when it must not.
 *
 * - Idempotent requests (GET, PUT, DELETE, and the actions os-complete / os-extend / metadata)
 *   are retried on 5xx, connection errors and timeouts, with jittered exponential back-off,
 *   as long as the next attempt can still finish before the caller's deadline.
 * - Non-idempotent POSTs (create volume / snapshot / attachment) are retried only when the
 *   request certainly never reached the server (connection refused, DNS). After a 5xx, a reset
 *   or a timeout the object may exist: the error carries `outcomeUnknown` and the caller re-finds
 *   by name instead of creating a twin.
 * - 413/429 with Retry-After > 0 is a rate limit: nothing was done, so any request waits and
 *   retries within the deadline. 413 with Retry-After 0 is a quota refusal: final.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for (the error surfaces as UNAVAILABLE). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 4000,
  maxRetryAfterMs: 30_000,
};

export type FailureClass =
  /** Try again after a back-off delay. */
  | 'retry'
  /** Try again after the server's Retry-After. */
  | 'retry-after'
  /** 413 with Retry-After 0: QuotaExceededError. */
  | 'quota'
  /** The request may have been executed; do not repeat it here. */
  | 'outcome-unknown'
  /** 401: re-authenticate once, then replay. */
  | 'reauth'
  /** Give up with this error. */
  | 'final';

export interface FailureFacts {
  /** HTTP status, when an answer arrived. */
  status?: number;
  transport?: TransportFailure;
  /** For transport failures: whether the request may have reached the server. */
  maybeSent?: boolean;
  retryAfterSeconds?: number;
  cinderCode?: string;
  idempotent: boolean;
}

export function classifyFailure(f: FailureFacts): FailureClass {
  if (f.transport === 'aborted' || f.transport === 'tls') return 'final';
  if (f.transport === 'network' || f.transport === 'timeout') {
    if (f.idempotent || f.maybeSent === false) return 'retry';
    return 'outcome-unknown';
  }
  const s = f.status;
  if (s === undefined) return 'final';
  if (s === 401) return 'reauth';
  if (s === 413 || s === 429) {
    if ((f.retryAfterSeconds ?? 0) > 0) return 'retry-after';
    if (s === 413 && (f.retryAfterSeconds === 0 || f.cinderCode === 'overLimit')) return 'quota';
    // 429 without a Retry-After: a limiter that did not say how long; back off like a 5xx.
    // Nothing was executed, so this is safe for any method.
    return s === 429 ? 'retry' : 'final';
  }
  if (s >= 500) return f.idempotent ? 'retry' : 'outcome-unknown';
  return 'final';
}

/** "Full jitter" exponential back-off: uniform in [base/2, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt));
  const floor = Math.min(ceiling, policy.baseDelayMs / 2);
  return Math.round(floor + random() * (ceiling - floor));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(abortReason(signal));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** An Error named AbortError (the edge maps it to CANCELLED / DEADLINE_EXCEEDED via the signal). */
export function abortReason(signal?: AbortSignal): Error {
  const r: unknown = signal?.reason;
  if (r instanceof Error) return r;
  const e = new Error('the operation was aborted');
  e.name = 'AbortError';
  return e;
}
