import { describe, expect, it } from 'vitest';
import { DriverError } from '../../util/errors.js';
import { parseSnapshotParameters, parseVolumeParameters } from './parameters.js';

function error(fn: () => unknown): DriverError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DriverError) return e;
    throw e;
  }
  return undefined;
}

describe('StorageClass parameters', () => {
  it('reads type, its alias, availability and the extra-create-metadata keys', () => {
    expect(
      parseVolumeParameters({
        type: 'iscsi',
        availability: 'az1',
        'csi.storage.k8s.io/pvc/name': 'data',
        'csi.storage.k8s.io/pvc/namespace': 'db',
        'csi.storage.k8s.io/pv/name': 'pvc-1',
      }),
    ).toEqual({
      volumeType: 'iscsi',
      availability: 'az1',
      metadata: { 'csi.storage.k8s.io/pvc/name': 'data', 'csi.storage.k8s.io/pvc/namespace': 'db', 'csi.storage.k8s.io/pv/name': 'pvc-1' },
    });
    expect(parseVolumeParameters({ cinderVolumeType: 'rbd' }).volumeType).toBe('rbd');
    expect(parseVolumeParameters({ type: 'rbd', cinderVolumeType: 'rbd' }).volumeType).toBe('rbd');
    expect(parseVolumeParameters({ type: '', availability: '' })).toEqual({ metadata: {} });
    expect(parseVolumeParameters(undefined)).toEqual({ metadata: {} });
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['unknown key', { tpye: 'iscsi' }, /"tpye"/],
    ['unknown csi.storage.k8s.io key', { 'csi.storage.k8s.io/fstype': 'xfs' }, /fstype/],
    ['conflicting type keys', { type: 'a', cinderVolumeType: 'b' }, /different volume types/],
    ['overlong value', { 'csi.storage.k8s.io/pvc/name': 'x'.repeat(256) }, /longer than 255/],
  ];
  it.each(bad)('refuses %s with INVALID_ARGUMENT naming it', (_n, p, msg) => {
    const e = error(() => parseVolumeParameters(p));
    expect(e?.kind).toBe('invalid');
    expect(e?.message).toMatch(msg);
  });

  it('snapshot classes accept only the snapshot metadata keys', () => {
    expect(parseSnapshotParameters({ 'csi.storage.k8s.io/volumesnapshot/name': 's' }).metadata).toEqual({
      'csi.storage.k8s.io/volumesnapshot/name': 's',
    });
    expect(error(() => parseSnapshotParameters({ tpye: 'backup' }))?.message).toMatch(/"tpye"/);
  });

  it('a snapshot class chooses a Cinder snapshot (default) or a backup, full unless incremental is asked for', () => {
    expect(parseSnapshotParameters({})).toMatchObject({ kind: 'snapshot', incremental: false });
    expect(parseSnapshotParameters({ type: 'snapshot' })).toMatchObject({ kind: 'snapshot' });
    expect(parseSnapshotParameters({ type: 'backup' })).toMatchObject({ kind: 'backup', incremental: false });
    expect(parseSnapshotParameters({ type: 'backup', incremental: 'true' })).toMatchObject({ kind: 'backup', incremental: true });
    expect(parseSnapshotParameters({ type: 'backup', incremental: 'false' })).toMatchObject({ kind: 'backup', incremental: false });
  });

  it.each([
    [{ type: 'x' }, /parameters\.type must be "snapshot" or "backup"/],
    [{ type: 'backup', incremental: 'yes' }, /parameters\.incremental must be "true" or "false"/],
    [{ incremental: 'true' }, /incremental applies only with type: backup/],
    [{ type: 'snapshot', incremental: 'false' }, /incremental applies only with type: backup/],
  ])('refuses snapshot class parameters %j with INVALID_ARGUMENT naming the field', (p, msg) => {
    const e = error(() => parseSnapshotParameters(p));
    expect(e?.kind).toBe('invalid');
    expect(e?.message).toMatch(msg);
  });
});
