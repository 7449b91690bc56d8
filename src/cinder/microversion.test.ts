import { describe, expect, it } from 'vitest';
import {
  MicroversionError,
  compareMicroversion,
  featuresFor,
  negotiate,
  parseMicroversion,
  parseVersionDocument,
  versionRootOf,
} from './microversion.js';

describe('microversion parsing', () => {
  it.each([
    ['3.70', { major: 3, minor: 70 }],
    ['v3.0', { major: 3, minor: 0 }],
    [' 3.44 ', { major: 3, minor: 44 }],
  ])('parses %j', (text, want) => expect(parseMicroversion(text)).toEqual(want));

  it.each(['3.x', '3', 'latest', '', '3.4.5'])('rejects %j', (text) => expect(parseMicroversion(text)).toBeUndefined());

  it('compares numerically, not as text (3.9 < 3.10)', () => {
    expect(compareMicroversion({ major: 3, minor: 9 }, { major: 3, minor: 10 })).toBeLessThan(0);
    expect(compareMicroversion({ major: 3, minor: 70 }, { major: 3, minor: 70 })).toBe(0);
  });
});

describe('version document', () => {
  it("reads the root's 300 document of a real Cinder", () => {
    const doc = {
      versions: [
        {
          id: 'v3.0',
          status: 'CURRENT',
          version: '3.70',
          min_version: '3.0',
          links: [{ rel: 'self', href: 'http://127.0.0.1:8776/v3/' }],
        },
      ],
    };
    expect(parseVersionDocument(doc)).toEqual({ min: { major: 3, minor: 0 }, max: { major: 3, minor: 70 } });
  });

  it('reads the /v3/ single-version document and skips other majors', () => {
    expect(parseVersionDocument({ version: { id: 'v3.0', version: '3.59', min_version: '3.0' } }).max).toEqual({ major: 3, minor: 59 });
    expect(
      parseVersionDocument({ versions: [{ id: 'v2.0', version: '' }, { id: 'v3.0', version: '3.50', min_version: '3.0' }] }).max,
    ).toEqual({ major: 3, minor: 50 });
  });

  it('fails clearly without a v3 entry', () => {
    expect(() => parseVersionDocument({ versions: [{ id: 'v2.0' }] })).toThrow(/no v3 API/);
    expect(() => parseVersionDocument('nope')).toThrow(MicroversionError);
  });

  it('finds the API root under the endpoint', () => {
    expect(versionRootOf('http://127.0.0.1:8776/v3/0123abcd')).toBe('http://127.0.0.1:8776/');
    expect(versionRootOf('https://cloud.example/volume/v3/abc/')).toBe('https://cloud.example/volume/');
    expect(versionRootOf('http://c:8776/v3')).toBe('http://c:8776/');
  });
});

describe('negotiation and feature flags', () => {
  const range = (max: string, min = '3.0') => ({ min: parseMicroversion(min)!, max: parseMicroversion(max)! });

  it('uses our maximum when the server offers more, and the server maximum otherwise', () => {
    expect(negotiate(range('3.71'))).toEqual({ major: 3, minor: 70 });
    expect(negotiate(range('3.70'))).toEqual({ major: 3, minor: 70 });
    expect(negotiate(range('3.50'))).toEqual({ major: 3, minor: 50 });
    expect(negotiate(range('3.44'))).toEqual({ major: 3, minor: 44 });
  });

  it('refuses a server below 3.44, naming both versions', () => {
    expect(() => negotiate(range('3.43'))).toThrow(/up to 3\.43.*at least 3\.44/);
  });

  it('refuses a server whose minimum is above ours', () => {
    expect(() => negotiate(range('4.5', '3.80'))).toThrow(/requires API microversion 3\.80/);
  });

  it.each([
    ['3.44', { inUseExtend: true, withCount: false, volumeFromBackup: false, sharedTargets: false, attachMode: false, updatedAtFilters: false, snapshotWithoutForce: false }],
    ['3.45', { inUseExtend: true, withCount: true, volumeFromBackup: false, sharedTargets: false, attachMode: false, updatedAtFilters: false, snapshotWithoutForce: false }],
    ['3.47', { inUseExtend: true, withCount: true, volumeFromBackup: true, sharedTargets: false, attachMode: false, updatedAtFilters: false, snapshotWithoutForce: false }],
    ['3.48', { inUseExtend: true, withCount: true, volumeFromBackup: true, sharedTargets: true, attachMode: false, updatedAtFilters: false, snapshotWithoutForce: false }],
    ['3.54', { inUseExtend: true, withCount: true, volumeFromBackup: true, sharedTargets: true, attachMode: true, updatedAtFilters: false, snapshotWithoutForce: false }],
    ['3.60', { inUseExtend: true, withCount: true, volumeFromBackup: true, sharedTargets: true, attachMode: true, updatedAtFilters: true, snapshotWithoutForce: false }],
    ['3.65', { inUseExtend: true, withCount: true, volumeFromBackup: true, sharedTargets: true, attachMode: true, updatedAtFilters: true, snapshotWithoutForce: false }],
    ['3.66', { inUseExtend: true, withCount: true, volumeFromBackup: true, sharedTargets: true, attachMode: true, updatedAtFilters: true, snapshotWithoutForce: true }],
  ])('features at %s', (v, flags) => {
    const f = featuresFor(parseMicroversion(v)!);
    expect(f).toMatchObject({ microversion: v, ...flags });
  });
});
