import { describe, expect, it } from 'vitest';
import type { VolumeCapability__Output } from '../generated/csi/v1/VolumeCapability.js';
import { sameCapability, type NodeCapability } from '../services/node/requests.js';
import { DriverError, type ErrorKind } from '../util/errors.js';
import { capacityRange, parseStageRequest, requireCapability, requireVolumeId } from './node-requests.js';

function code(fn: () => unknown): ErrorKind | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof DriverError) return err.kind;
    throw err;
  }
}

const mount = (fs_type = '', mount_flags: string[] = [], mode = 'SINGLE_NODE_WRITER', extra: Partial<VolumeCapability__Output['mount']> = {}): VolumeCapability__Output =>
  ({ access_type: 'mount', mount: { fs_type, mount_flags, volume_mount_group: '', ...extra }, access_mode: { mode } }) as VolumeCapability__Output;
const block = (mode = 'SINGLE_NODE_WRITER'): VolumeCapability__Output =>
  ({ access_type: 'block', block: {}, access_mode: { mode } }) as VolumeCapability__Output;

describe('requireVolumeId', () => {
  it.each([
    ['', 'invalid'],
    ['a/b', 'invalid'],
    ['a\nb', 'invalid'],
    ['x'.repeat(257), 'invalid'],
    ['0f9a4c1e-7b7e-4a3c-9f00-2b1c0d8e4f11', 'ok'],
    ['x'.repeat(256), 'ok'],
  ] as const)('%j → %s', (id, want) => {
    expect(code(() => requireVolumeId(id))).toBe(want);
  });
});

describe('requireCapability', () => {
  const cases: [string, VolumeCapability__Output | null, ErrorKind | 'ok'][] = [
    ['missing', null, 'invalid'],
    ['no access type', { access_mode: { mode: 'SINGLE_NODE_WRITER' } } as VolumeCapability__Output, 'invalid'],
    ['no access mode', { access_type: 'block', block: {}, access_mode: null } as VolumeCapability__Output, 'invalid'],
    ['UNKNOWN access mode', block('UNKNOWN'), 'invalid'],
    ['unsupported fs', mount('ntfs'), 'invalid'],
    ['mount flag outside the allow-list', mount('ext4', ['suid']), 'invalid'],
    ['comma-smuggled flag', mount('ext4', ['noatime,exec']), 'invalid'],
    ['volume_mount_group', mount('ext4', [], 'SINGLE_NODE_WRITER', { volume_mount_group: '1000' }), 'invalid'],
    ['multi-node writer mount', mount('ext4', [], 'MULTI_NODE_MULTI_WRITER'), 'invalid'],
    ['multi-node writer block', block('MULTI_NODE_MULTI_WRITER'), 'ok'],
    ['multi-node reader mount', mount('ext4', [], 'MULTI_NODE_READER_ONLY'), 'ok'],
    ['default fs', mount(''), 'ok'],
    ['xfs with flags', mount('xfs', ['noatime', 'nouuid']), 'ok'],
    ['btrfs', mount('btrfs'), 'ok'],
    ['block', block(), 'ok'],
  ];
  it.each(cases)('%s → %s', (_n, cap, want) => {
    expect(code(() => requireCapability(cap))).toBe(want);
  });

  it('names the field', () => {
    expect(() => requireCapability(null)).toThrow(/volume_capability is required/);
    expect(() => requireCapability(mount('ext4', ['suid']))).toThrow(/mount_flags.*suid/);
  });

  it('normalises: ext4 by default, flags split and de-duplicated, read-only modes', () => {
    expect(requireCapability(mount('', ['noatime,nodev', 'noatime']))).toEqual({
      accessType: 'mount',
      fsType: 'ext4',
      mountFlags: ['noatime', 'nodev'],
      readOnly: false,
    });
    expect(requireCapability(block('SINGLE_NODE_READER_ONLY'))).toEqual({ accessType: 'block', readOnly: true });
  });

  it('infers the access type from the oneof members when the discriminator is absent', () => {
    expect(requireCapability({ block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } } as VolumeCapability__Output).accessType).toBe('block');
  });
});

describe('sameCapability', () => {
  const m = (fsType: 'ext4' | 'xfs', mountFlags: string[], readOnly = false): NodeCapability => ({ accessType: 'mount', fsType, mountFlags, readOnly });
  it.each([
    [m('ext4', ['a', 'b']), m('ext4', ['b', 'a']), true],
    [m('ext4', []), m('xfs', []), false],
    [m('ext4', ['noatime']), m('ext4', []), false],
    [m('ext4', []), m('ext4', [], true), false],
    [m('ext4', []), { accessType: 'block', readOnly: false } as NodeCapability, false],
    [{ accessType: 'block', readOnly: false } as NodeCapability, { accessType: 'block', readOnly: false } as NodeCapability, true],
  ])('%j vs %j → %s', (a, b, want) => {
    expect(sameCapability(a, b)).toBe(want);
  });
});

describe('capacityRange', () => {
  it.each([
    [null, {}],
    [{ required_bytes: '0', limit_bytes: '0' }, {}],
    [{ required_bytes: '1073741824', limit_bytes: '' }, { requiredBytes: 1073741824 }],
    [{ required_bytes: '10', limit_bytes: '20' }, { requiredBytes: 10, limitBytes: 20 }],
  ] as const)('%j → %j', (range, want) => {
    expect(capacityRange(range)).toEqual(want);
  });
  it.each([
    [{ required_bytes: 'abc', limit_bytes: '0' }, 'invalid'],
    [{ required_bytes: '-5', limit_bytes: '0' }, 'invalid'],
    [{ required_bytes: '99999999999999999999', limit_bytes: '0' }, 'invalid'],
    [{ required_bytes: '20', limit_bytes: '10' }, 'out-of-range'],
  ])('%j → %s', (range, want) => {
    expect(code(() => capacityRange(range))).toBe(want);
  });
});

describe('parseStageRequest', () => {
  const base = { volume_id: 'v1', staging_target_path: '/k/s', publish_context: { a: 'b' }, volume_context: {}, secrets: { userKey: 'k' } };
  it('says whether the mode is a single-node writer (the RBD map may then insist on being alone)', () => {
    const stage = (mode: string) => parseStageRequest({ ...base, volume_capability: block(mode) } as never);
    expect(stage('SINGLE_NODE_WRITER').singleNodeWriter).toBe(true);
    expect(stage('SINGLE_NODE_MULTI_WRITER').singleNodeWriter).toBe(true);
    expect(stage('SINGLE_NODE_READER_ONLY').singleNodeWriter).toBe(false);
    expect(stage('MULTI_NODE_MULTI_WRITER').singleNodeWriter).toBe(false);
  });

  it('passes the maps through and turns an absent path ("" in proto3) into undefined', () => {
    const r = parseStageRequest({ ...base, staging_target_path: '', volume_capability: block() } as never);
    expect(r).toMatchObject({ volumeId: 'v1', stagingTargetPath: undefined, publishContext: { a: 'b' }, secrets: { userKey: 'k' } });
  });
});
