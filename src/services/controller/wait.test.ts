import { describe, expect, it } from 'vitest';
import { parseCinderTime } from './cinder-time.js';
import { MAX_MARGIN_MS, MIN_MARGIN_MS, NO_DEADLINE_WAIT_MS, statusIs, waitBudgetMs } from './wait.js';

describe('wait budget', () => {
  it.each([
    [10_000, 9_000],
    [60_000, 60_000 - MAX_MARGIN_MS],
    [1_000, 1_000 - MIN_MARGIN_MS],
    [100, 0],
    [-50, 0],
  ])('%i ms left → wait %i ms', (left, want) => {
    expect(waitBudgetMs({ deadline: 1_000_000 + left }, 1_000_000)).toBe(want);
  });
  it('no deadline → a bounded wait', () => {
    expect(waitBudgetMs({})).toBe(NO_DEADLINE_WAIT_MS);
  });
  it('error statuses are failures, others pending', () => {
    const v = statusIs('available');
    expect(v({ status: 'available' })).toBe('done');
    expect(v({ status: 'error_extending' })).toBe('failed');
    expect(v({ status: 'creating' })).toBe('pending');
  });
});

describe('Cinder timestamps', () => {
  it('parses zone-less microsecond timestamps as UTC', () => {
    const t = parseCinderTime('2024-05-01T10:00:00.123456');
    expect(t?.ms).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    expect(t?.nanos).toBe(123_456_000);
    expect(parseCinderTime('2024-05-01T10:00:00Z')?.nanos).toBe(0);
    expect(parseCinderTime('2024-05-01T10:00:00+02:00')?.ms).toBe(Date.UTC(2024, 4, 1, 8));
    expect(parseCinderTime('yesterday')).toBeUndefined();
    expect(parseCinderTime(undefined)).toBeUndefined();
  });
});
