import { describe, expect, it } from 'vitest';
import { generateNodeKeyPair, keyPairFromPem, open, privateKeyPem, seal, SealError } from './seal.js';

describe('seal / open', () => {
  it('round-trips for the right node and purpose only', () => {
    const a = generateNodeKeyPair();
    const b = generateNodeKeyPair();
    const secret = 'chap-Secret-7d1e';
    const sealed = seal(secret, a.publicKey, 'vol-1');
    expect(sealed).not.toContain(secret);
    expect(open(sealed, a, 'vol-1')).toBe(secret);
    expect(() => open(sealed, b, 'vol-1')).toThrow(SealError);
    expect(() => open(sealed, a, 'vol-2')).toThrow(SealError);
    // two seals of the same value differ (fresh ephemeral key and nonce)
    expect(seal(secret, a.publicKey, 'vol-1')).not.toBe(sealed);
  });

  it('detects tampering and bad formats', () => {
    const a = generateNodeKeyPair();
    const sealed = seal('x', a.publicKey, 'v');
    // A character well inside the ciphertext, changed for sure (the old test could "flip" a
    // character to itself, one run in 64, or touch only the last character's padding bits).
    const at = sealed.length - 8;
    const flipped = sealed.slice(0, at) + (sealed[at] === 'A' ? 'B' : 'A') + sealed.slice(at + 1);
    expect(flipped).not.toBe(sealed);
    expect(() => open(flipped, a, 'v')).toThrow(SealError);
    expect(() => open('plain', a, 'v')).toThrow(/unknown format/);
    expect(() => open('s1.AAAA', a, 'v')).toThrow(/truncated/);
  });

  it('keeps the key pair through PEM', () => {
    const a = generateNodeKeyPair();
    const again = keyPairFromPem(privateKeyPem(a));
    expect(again.publicKey).toBe(a.publicKey);
    expect(a.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(open(seal('y', a.publicKey, 'v'), again, 'v')).toBe('y');
  });
});
