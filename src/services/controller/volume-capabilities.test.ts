import { describe, expect, it } from 'vitest';
import type { VolumeCapability__Output } from '../../generated/csi/v1/VolumeCapability.js';
import { parseCapabilities, parseCapability } from '../../csi/capability.js';
import { DriverError } from '../../util/errors.js';
import { capabilityProblem, isMultiNode, isReadOnlyMode, requireCapabilities } from './volume-capabilities.js';

type Mode = NonNullable<VolumeCapability__Output['access_mode']>['mode'];
const mount = (mode: Mode, fs_type = ''): VolumeCapability__Output => ({
  access_type: 'mount',
  mount: { fs_type, mount_flags: [], volume_mount_group: '' },
  access_mode: { mode },
});
const block = (mode: Mode): VolumeCapability__Output => ({ access_type: 'block', block: {}, access_mode: { mode } });

describe('volume capabilities', () => {
  const table: Array<[string, VolumeCapability__Output, boolean, 'ok' | 'malformed' | 'unsupported']> = [
    ['mount SINGLE_NODE_WRITER', mount('SINGLE_NODE_WRITER'), false, 'ok'],
    ['mount SINGLE_NODE_READER_ONLY xfs', mount('SINGLE_NODE_READER_ONLY', 'xfs'), false, 'ok'],
    ['mount SINGLE_NODE_SINGLE_WRITER ext3', mount('SINGLE_NODE_SINGLE_WRITER', 'ext3'), false, 'ok'],
    ['mount SINGLE_NODE_MULTI_WRITER btrfs', mount('SINGLE_NODE_MULTI_WRITER', 'btrfs'), false, 'ok'],
    ['block SINGLE_NODE_WRITER', block('SINGLE_NODE_WRITER'), false, 'ok'],
    ['block MULTI_NODE_MULTI_WRITER on multiattach', block('MULTI_NODE_MULTI_WRITER'), true, 'ok'],
    ['block MULTI_NODE_READER_ONLY on multiattach', block('MULTI_NODE_READER_ONLY'), true, 'ok'],
    ['block MULTI_NODE_SINGLE_WRITER without multiattach', block('MULTI_NODE_SINGLE_WRITER'), false, 'unsupported'],
    ['mount MULTI_NODE_MULTI_WRITER even on multiattach', mount('MULTI_NODE_MULTI_WRITER'), true, 'unsupported'],
    ['fs type outside the allow-list', mount('SINGLE_NODE_WRITER', 'ntfs'), false, 'unsupported'],
    ['fs type with options smuggled', mount('SINGLE_NODE_WRITER', 'ext4 -E nodiscard'), false, 'unsupported'],
    ['UNKNOWN mode', mount('UNKNOWN'), false, 'malformed'],
    ['no access mode', { access_type: 'mount', mount: { fs_type: '', mount_flags: [], volume_mount_group: '' }, access_mode: null }, false, 'malformed'],
    ['no access type', { access_mode: { mode: 'SINGLE_NODE_WRITER' } }, false, 'malformed'],
  ];
  // Malformed: refused by the gRPC edge's parse; unsupported: by the service's rule.
  it.each(table)('%s', (_n, cap, multiattach, want) => {
    let got: 'ok' | 'malformed' | 'unsupported';
    try {
      got = capabilityProblem(parseCapability(cap, 'cap'), { multiattach }) === undefined ? 'ok' : 'unsupported';
    } catch (e) {
      expect((e as DriverError).kind).toBe('invalid');
      got = 'malformed';
    }
    expect(got).toBe(want);
  });

  it('explains why MULTI_NODE is refused', () => {
    expect(capabilityProblem(parseCapability(block('MULTI_NODE_MULTI_WRITER'), 'c'), { multiattach: false })).toMatch(/multiattach/);
    expect(capabilityProblem(parseCapability(mount('MULTI_NODE_READER_ONLY'), 'c'), { multiattach: true })).toMatch(/block/);
  });

  it('throws INVALID_ARGUMENT or FAILED_PRECONDITION as asked', () => {
    const codeOf = (fn: () => void) => {
      try {
        fn();
        return 'ok';
      } catch (e) {
        return (e as DriverError).kind;
      }
    };
    const caps = (...c: VolumeCapability__Output[]) => parseCapabilities(c, 'caps', true);
    expect(codeOf(() => caps())).toBe('invalid');
    expect(codeOf(() => requireCapabilities(caps(block('MULTI_NODE_MULTI_WRITER')), { multiattach: false }, 'cap'))).toBe('invalid');
    expect(codeOf(() => requireCapabilities(caps(block('MULTI_NODE_MULTI_WRITER')), { multiattach: false }, 'cap', 'precondition'))).toBe(
      'precondition',
    );
    expect(codeOf(() => caps(mount('UNKNOWN')))).toBe('invalid');
    expect(codeOf(() => requireCapabilities(caps(mount('SINGLE_NODE_WRITER'), block('SINGLE_NODE_READER_ONLY')), { multiattach: false }, 'c'))).toBe('ok');
  });

  it('classifies modes', () => {
    expect(isMultiNode(parseCapability(block('MULTI_NODE_READER_ONLY'), 'c'))).toBe(true);
    expect(isMultiNode(parseCapability(block('SINGLE_NODE_MULTI_WRITER'), 'c'))).toBe(false);
    expect(isReadOnlyMode(parseCapability(mount('SINGLE_NODE_READER_ONLY'), 'c'))).toBe(true);
    expect(isReadOnlyMode(parseCapability(mount('SINGLE_NODE_WRITER'), 'c'))).toBe(false);
  });
});
