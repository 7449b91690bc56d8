import { describe, expect, it } from 'vitest';
import { DriverError } from '../util/errors.js';
import { generateNodeKeyPair } from '../util/seal.js';
import { generateSigningKeyPair } from '../util/sign.js';
import { formatNodeId, keyFingerprint, parseNodeId, NODE_ID_MAX_BYTES } from './node-id.js';

const key = generateNodeKeyPair().publicKey;

describe('node id v2 (stable)', () => {
  const seal = generateNodeKeyPair().publicKey;
  const sign = generateSigningKeyPair().publicKey;

  it('is the name and a fingerprint of both keys: round-trips, and changes only with the keys', () => {
    const fingerprint = keyFingerprint(seal, sign);
    expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(keyFingerprint(seal, sign)).toBe(fingerprint);
    expect(keyFingerprint(seal, generateSigningKeyPair().publicKey)).not.toBe(fingerprint);
    expect(keyFingerprint(generateNodeKeyPair().publicKey, sign)).not.toBe(fingerprint);
    const text = formatNodeId({ nodeName: 'worker-1.example.com', fingerprint });
    expect(text).toBe(`v2;worker-1.example.com;${fingerprint}`);
    expect(parseNodeId(text)).toEqual({ nodeName: 'worker-1.example.com', fingerprint });
  });

  it('fits long node names: up to 156 characters, then a clear error', () => {
    const fingerprint = keyFingerprint(seal, sign);
    expect(Buffer.byteLength(formatNodeId({ nodeName: 'n'.repeat(156), fingerprint }))).toBe(192);
    expect(() => formatNodeId({ nodeName: 'n'.repeat(157), fingerprint })).toThrow(/over the 192-byte limit/);
  });

  it.each([
    ['a short fingerprint', 'v2;n;abc'],
    ['an extra field', `v2;n;${'A'.repeat(32)};x`],
    ['a bad name', `v2;N_x;${'A'.repeat(32)}`],
  ])('answers NOT_FOUND for %s', (_what, raw) => {
    expect(() => parseNodeId(raw)).toThrow(DriverError);
    try {
      parseNodeId(raw);
    } catch (err) {
      expect((err as DriverError).kind).toBe('not-found');
    }
  });
});

describe('node id v1 (0.1.0 nodes, still accepted)', () => {
  it('round-trips with and without an initiator, IPv4 and IPv6', () => {
    for (const id of [
      { nodeName: 'worker-1', ip: '10.0.0.7', iqn: 'iqn.1993-08.org.debian:01:abcdef123456', publicKey: key },
      { nodeName: 'rbd-only.example.com', ip: 'fd00::17', publicKey: key },
    ]) {
      const text = formatNodeId(id);
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(NODE_ID_MAX_BYTES);
      expect(parseNodeId(text)).toEqual(id);
    }
  });

  it('refuses ids over the size limit with a clear message', () => {
    const longName = 'n'.repeat(150);
    expect(() => formatNodeId({ nodeName: longName, ip: '10.0.0.1', publicKey: key })).toThrow(/over the 192-byte limit/);
  });

  const bad: Array<[string, string]> = [
    ['unknown version', `v2;n;10.0.0.1;;${key}`],
    ['missing fields', `v1;n;10.0.0.1`],
    ['a Nova-style id', '6c1c2a0c-6f5e-4a38-9a52-6c0e8a3e1f11'],
    ['bad ip', `v1;n;300.1.1.1;;${key}`],
    ['bad name', `v1;N_ode;10.0.0.1;;${key}`],
    ['bad iqn', `v1;n;10.0.0.1;not-an-iqn;${key}`],
    ['bad key', `v1;n;10.0.0.1;;short`],
  ];
  it.each(bad)('answers NOT_FOUND for %s', (_what, raw) => {
    let err: unknown;
    try {
      parseNodeId(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DriverError);
    expect((err as DriverError).kind).toBe('not-found');
  });

  it('answers INVALID_ARGUMENT for an empty id', () => {
    expect(() => parseNodeId('')).toThrow(/node_id is required/);
  });
});
