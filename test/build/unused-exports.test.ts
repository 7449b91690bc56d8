import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/util/package-info.js';
import { findUnused, type Unused } from './unused-exports.js';

/**
 * Nothing test-only ships, part two: an export (or a public method) that no other shipped file
 * uses is dead code or test support. Tests may still import a module's internals to test them;
 * what they may not do is keep alive something the driver itself never uses.
 */

/**
 * Public members no shipped code uses, kept for a reason. The list only shrinks: the test fails
 * when a member is missing from it and when one on it is used again or gone.
 */
const KEPT_MEMBERS: Record<string, string> = {
  'src/util/keyed-mutex.ts KeyedMutex.size': 'tests assert that no lock is left held',
  'src/csi/locks.ts KeyedTryLock.size': 'tests assert that no lock is left held',
  'src/cinder/auth.ts AuthProvider.authentications': 'tests count re-authentications',
  'src/cinder/auth.ts KeystoneAuth.authentications': 'tests count re-authentications',
  'src/cinder/auth.ts NoAuth.authentications': 'tests count re-authentications',
  'src/cinder/auth.ts KeystoneAuth.strategy': 'discriminates the AuthProvider union; nothing reads it yet',
  'src/cinder/auth.ts NoAuth.strategy': 'discriminates the AuthProvider union; nothing reads it yet',
  'src/cinder/client.ts CinderClient.getLimits': 'Cinder API the contract suite covers; the driver does not call it yet',
  'src/cinder/client.ts CinderClient.listAvailabilityZones': 'Cinder API the contract suite covers; the driver does not call it yet',
  'src/cinder/client.ts CinderClient.listVolumeTypes': 'Cinder API the contract suite covers; the driver does not call it yet',
  'src/cinder/client.ts HttpCinderClient.getLimits': 'implements CinderClient.getLimits',
  'src/cinder/client.ts HttpCinderClient.listAvailabilityZones': 'implements CinderClient.listAvailabilityZones',
  'src/cinder/client.ts HttpCinderClient.listVolumeTypes': 'implements CinderClient.listVolumeTypes',
  'src/cinder/waiter.ts BatchedWaiter.active': 'tests and benchmarks read the waiter state',
  'src/cinder/waiter.ts BatchedWaiter.stats': 'tests and benchmarks read the waiter state',
  'src/emulator/types.ts RunningEmulator.createApplicationCredential': 'the emulator is shipped; tests and benchmarks drive it in process',
  'src/emulator/types.ts RunningEmulator.expireTokens': 'the emulator is shipped; tests and benchmarks drive it in process',
  'src/emulator/types.ts RunningEmulator.resetStats': 'the emulator is shipped; tests and benchmarks drive it in process',
  'src/emulator/types.ts RunningEmulator.setFaults': 'the emulator is shipped; tests and benchmarks drive it in process',
  'src/emulator/types.ts RunningEmulator.stats': 'the emulator is shipped; tests and benchmarks drive it in process',
  'src/host/filesystem.ts Filesystem.isReadOnly': 'only the loop-device data-path tests call it',
  'src/host/filesystem.ts Filesystem.stats': 'only the loop-device data-path tests call it',
  'src/host/mounter.ts Mounter.isReadOnly': 'only the loop-device data-path tests call it',
  'src/host/mounter.ts Mounter.sourceDevice': 'only the loop-device data-path tests call it',
};

const key = (u: Unused): string => `${u.file} ${u.name}`;
const isMember = (u: Unused): boolean => u.name.includes('.');

describe('the unused-export finder', () => {
  const found = findUnused(join(PACKAGE_ROOT, 'test', 'build', 'fixtures', 'unused', 'tsconfig.json'));
  const dir = 'test/build/fixtures/unused';

  it('finds exports nobody imports, also behind a barrel, and tells apart those used in their own file', () => {
    expect(found.filter((u) => !isMember(u))).toEqual([
      { file: `${dir}/main.ts`, name: 'run', usedInFile: false },
      { file: `${dir}/values.ts`, name: 'BASE', usedInFile: true },
      { file: `${dir}/values.ts`, name: 'neverImported', usedInFile: false },
      { file: `${dir}/values.ts`, name: 'unusedViaBarrel', usedInFile: false },
    ]);
  });

  it('counts a destructured dynamic import and a call through an implemented interface as uses', () => {
    expect(found.filter(isMember)).toEqual([{ file: `${dir}/counter.ts`, name: 'CountingCounter.reset', usedInFile: false }]);
  });
});

describe('the shipped sources (src/ without tests)', () => {
  // Generated protobuf types are the generator's to shape.
  const found = findUnused(undefined, (file) => file.startsWith('src/generated/')).filter((u) => !u.usedInFile);

  it('export nothing that no other shipped file uses', () => {
    expect(found.filter((u) => !isMember(u)).map(key), 'delete it, or move it under test/ when only tests need it').toEqual([]);
  });

  it('have no public member that no shipped code uses, but the known ones', () => {
    expect(found.filter(isMember).map(key).sort()).toEqual(Object.keys(KEPT_MEMBERS).sort());
  });
});
