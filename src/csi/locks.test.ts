import { describe, expect, it } from 'vitest';
import { KeyedTryLock } from './locks.js';

describe('KeyedTryLock', () => {
  it('refuses a busy key, takes all-or-nothing, frees on release', () => {
    const locks = new KeyedTryLock();
    const a = locks.tryAcquire(['vol:1']);
    expect('release' in a).toBe(true);
    expect(locks.tryAcquire(['vol:2', 'vol:1'])).toEqual({ busy: 'vol:1' });
    // the failed attempt must not have kept vol:2
    const b = locks.tryAcquire(['vol:2']);
    expect('release' in b).toBe(true);
    if ('release' in a) a.release();
    if ('release' in a) a.release(); // idempotent
    expect(locks.size).toBe(1);
    if ('release' in b) b.release();
    expect(locks.size).toBe(0);
  });
});
