import { describe, expect, it } from 'vitest';
import { Code, CsiError } from '../util/errors.js';
import { ExecError } from '../host/exec.js';
import { cinderStatusToCode, mapError } from './error-map.js';

class CinderError extends Error {
  constructor(
    readonly status: number | undefined,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'CinderError';
  }
}

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
  ];
  it.each(table)('cinder %s (Retry-After %s) → %s', (status, retryAfter, code) => {
    expect(cinderStatusToCode(status, retryAfter)).toBe(code);
    expect(mapError(new CinderError(status, 'boom', retryAfter)).code).toBe(code);
  });

  it('keeps a CsiError code and message', () => {
    expect(mapError(new CsiError(Code.INVALID_ARGUMENT, 'volume_id is required'))).toEqual({
      code: Code.INVALID_ARGUMENT,
      message: 'volume_id is required',
    });
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
