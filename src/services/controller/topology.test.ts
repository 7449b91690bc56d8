import { describe, expect, it } from 'vitest';
import { TOPOLOGY_ZONE_KEY } from '../../util/package-info.js';
import { accessibleTopology, chooseZone, zoneFromRequirements, zoneOfTopology } from './topology.js';

const t = (zone?: string, extra: Record<string, string> = {}): Record<string, string> => ({ ...(zone ? { [TOPOLOGY_ZONE_KEY]: zone } : {}), ...extra });

describe('topology', () => {
  it('prefers preferred, then requisite, skipping segments without our key', () => {
    expect(zoneFromRequirements({ preferred: [t('b'), t('c')], requisite: [t('a')] })).toBe('b');
    expect(zoneFromRequirements({ preferred: [t(undefined, { other: 'x' })], requisite: [t('a'), t('b')] })).toBe('a');
    expect(zoneFromRequirements({ preferred: [], requisite: [] })).toBeUndefined();
    expect(zoneFromRequirements(undefined)).toBeUndefined();
  });

  it('an explicit availability parameter wins over requirements', () => {
    expect(chooseZone('az9', { preferred: [t('b')], requisite: [] })).toBe('az9');
    expect(chooseZone(undefined, { preferred: [t('b')], requisite: [] })).toBe('b');
  });

  it('reports the volume zone unless ignore-volume-az', () => {
    expect(accessibleTopology('nova', false)).toEqual([{ [TOPOLOGY_ZONE_KEY]: 'nova' }]);
    expect(accessibleTopology('nova', true)).toEqual([]);
    expect(accessibleTopology(undefined, false)).toEqual([]);
    expect(zoneOfTopology(t('z'))).toBe('z');
    expect(zoneOfTopology(undefined)).toBeUndefined();
  });
});
