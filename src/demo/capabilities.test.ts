import { describe, expect, it } from 'vitest';
import { hasSysResourceCapability } from './capabilities.js';

describe('CAP_SYS_RESOURCE detection', () => {
  it('reads bit 24 of CapEff', () => {
    expect(hasSysResourceCapability('CapEff:\t000001ffffffffff\n')).toBe(true);
    expect(hasSysResourceCapability('CapEff:\t000001fffeffffff\n')).toBe(false);
    expect(hasSysResourceCapability('Name: x\n')).toBe(false);
  });
});
