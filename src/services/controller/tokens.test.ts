import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DriverError } from '../../util/errors.js';
import { decodeToken, encodeToken, TOKEN_MARKERS } from './tokens.js';

describe('paging tokens', () => {
  it('round-trip the last ids of a page, last first', () => {
    const ids = Array.from({ length: 5 }, () => randomUUID());
    const markers = decodeToken(encodeToken(ids));
    expect(markers).toEqual(ids.slice(-TOKEN_MARKERS).reverse());
    expect(decodeToken(encodeToken(ids.slice(0, 1)))).toEqual([ids[0]]);
  });

  it('empty means start', () => {
    expect(decodeToken('')).toBeUndefined();
    expect(decodeToken(undefined)).toBeUndefined();
  });

  const bad = [
    'garbage',
    'm1.',
    'm1.!!!',
    `m1.${Buffer.from('{"a":1}').toString('base64url')}`,
    `m1.${Buffer.from('[]').toString('base64url')}`,
    `m1.${Buffer.from('["not-a-uuid"]').toString('base64url')}`,
    `m1.${Buffer.from(JSON.stringify([randomUUID(), randomUUID(), randomUUID(), randomUUID()])).toString('base64url')}`,
    randomUUID(),
  ];
  it.each(bad)('ABORTED for %s', (token) => {
    let err: unknown;
    try {
      decodeToken(token);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('aborted');
  });
});
