import { describe, expect, it } from 'vitest';
import { CinderError, QuotaExceededError } from '../cinder/errors.js';
import { ExecError } from '../host/exec.js';
import { DriverError, type ErrorKind } from '../util/errors.js';
import { mapError } from './error-map.js';
import { Code } from './status-codes.js';

const cinderError = (status: number | undefined, retryAfter?: number): CinderError =>
  new CinderError({ kind: status === undefined ? 'network' : 'http', status, retryAfter, message: 'boom', method: 'GET', route: '/volumes/{id}' });

describe('error mapping (architecture §7)', () => {
  const table: Array<[number | undefined, number | undefined, Code]> = [
    [404, undefined, Code.NOT_FOUND],
    [400, undefined, Code.FAILED_PRECONDITION],
    [409, undefined, Code.FAILED_PRECONDITION],
    [413, 0, Code.RESOURCE_EXHAUSTED],
    [413, 5, Code.UNAVAILABLE],
    [429, 5, Code.UNAVAILABLE],
    [500, undefined, Code.UNAVAILABLE],
    [503, undefined, Code.UNAVAILABLE],
    [undefined, undefined, Code.UNAVAILABLE],
    [401, undefined, Code.UNAUTHENTICATED],
    [403, undefined, Code.PERMISSION_DENIED],
    [418, undefined, Code.INTERNAL],
  ];
  it.each(table)('cinder %s (Retry-After %s) → %s', (status, retryAfter, code) => {
    const mapped = mapError(cinderError(status, retryAfter));
    expect(mapped.code).toBe(code);
    expect(mapped.message).toBe('cinder: boom');
  });

  it('maps a quota refusal to RESOURCE_EXHAUSTED', () => {
    expect(mapError(new QuotaExceededError({ status: 413, message: 'quota', method: 'POST', route: '/volumes' })).code).toBe(Code.RESOURCE_EXHAUSTED);
  });

  it('keeps a driver error message and maps its kind', () => {
    expect(mapError(new DriverError('invalid', 'volume_id is required'))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: 'volume_id is required',
    });
  });

  it('gives every kind its own status code, none of them OK or UNKNOWN', () => {
    const kinds: ErrorKind[] = ['invalid', 'not-found', 'exists', 'precondition', 'aborted', 'out-of-range', 'exhausted', 'unavailable', 'timed-out', 'cancelled', 'unauthenticated', 'forbidden', 'unsupported', 'internal'];
    const codes = kinds.map((kind) => mapError(new DriverError(kind, kind)).code);
    expect(new Set(codes).size).toBe(kinds.length);
    expect(codes).not.toContain(Code.OK);
    expect(codes).not.toContain(Code.UNKNOWN);
  });

  it('maps exec failures, aborts and the unknown', () => {
    expect(mapError(new ExecError('mkfs.ext4', [], 1, '', false, 'mkfs failed')).code).toBe(Code.INTERNAL);
    expect(mapError(new ExecError('iscsiadm', [], undefined, '', true, 'timed out')).code).toBe(Code.DEADLINE_EXCEEDED);
    const deadline = new AbortController();
    const reason = new Error('deadline');
    reason.name = 'DeadlineExceeded';
    deadline.abort(reason);
    expect(mapError(new Error('x'), deadline.signal).code).toBe(Code.DEADLINE_EXCEEDED);
    const cancel = new AbortController();
    cancel.abort();
    expect(mapError(new Error('x'), cancel.signal).code).toBe(Code.CANCELLED);
    expect(mapError('weird')).toEqual({ code: Code.INTERNAL, message: 'internal error: weird' });
  });
});
