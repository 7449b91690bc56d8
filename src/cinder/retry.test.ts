import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, backoffDelay, classifyFailure, sleep, type FailureFacts } from './retry.js';

describe('classifyFailure', () => {
  const cases: Array<[string, FailureFacts, string]> = [
    ['GET 500', { status: 500, idempotent: true }, 'retry'],
    ['GET 503', { status: 503, idempotent: true }, 'retry'],
    ['POST /volumes 500: may have been created', { status: 500, idempotent: false }, 'outcome-unknown'],
    ['GET connection reset', { transport: 'network', maybeSent: true, idempotent: true }, 'retry'],
    ['POST reset: reply lost', { transport: 'network', maybeSent: true, idempotent: false }, 'outcome-unknown'],
    ['POST refused: never sent', { transport: 'network', maybeSent: false, idempotent: false }, 'retry'],
    ['POST timeout', { transport: 'timeout', maybeSent: true, idempotent: false }, 'outcome-unknown'],
    ['DELETE timeout', { transport: 'timeout', maybeSent: true, idempotent: true }, 'retry'],
    ['aborted by the caller', { transport: 'aborted', idempotent: true }, 'final'],
    ['TLS verification refused: permanent', { transport: 'tls', maybeSent: false, idempotent: true }, 'final'],
    ['401', { status: 401, idempotent: true }, 'reauth'],
    ['413 Retry-After 0 = quota', { status: 413, retryAfterSeconds: 0, idempotent: false }, 'quota'],
    ['413 overLimit without header = quota', { status: 413, cinderCode: 'overLimit', idempotent: false }, 'quota'],
    ['413 Retry-After 2 = rate limit, even for POST', { status: 413, retryAfterSeconds: 2, idempotent: false }, 'retry-after'],
    ['429 Retry-After 1', { status: 429, retryAfterSeconds: 1, idempotent: true }, 'retry-after'],
    ['429 without Retry-After', { status: 429, idempotent: false }, 'retry'],
    ['413 from a proxy (body too large)', { status: 413, idempotent: true }, 'final'],
    ['404', { status: 404, idempotent: true }, 'final'],
    ['400', { status: 400, idempotent: false }, 'final'],
    ['409', { status: 409, idempotent: true }, 'final'],
  ];
  it.each(cases)('%s', (_name, facts, want) => expect(classifyFailure(facts)).toBe(want));
});

describe('backoffDelay', () => {
  it('grows exponentially with jitter and stays within [base/2, max]', () => {
    const p = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, p, () => 0)).toBe(50);
    expect(backoffDelay(0, p, () => 1)).toBe(100);
    expect(backoffDelay(2, p, () => 1)).toBe(400);
    expect(backoffDelay(10, p, () => 1)).toBe(1000);
    for (let a = 0; a < 12; a++) {
      const d = backoffDelay(a, p);
      expect(d).toBeGreaterThanOrEqual(50);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});

describe('sleep', () => {
  it('rejects at once when the signal aborts', async () => {
    const ctl = new AbortController();
    const p = sleep(10_000, ctl.signal);
    ctl.abort();
    await expect(p).rejects.toThrow();
  });
});
