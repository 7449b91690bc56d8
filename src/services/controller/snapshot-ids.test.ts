import { describe, expect, it } from 'vitest';
import { backupSnapshotId, parseSnapshotId } from './snapshot-ids.js';

const UUID = '0b8c4a8e-53a3-4c8f-9a44-5e6f7d8c9b0a';

describe('CSI snapshot ids', () => {
  it('a bare UUID is a Cinder snapshot, backup:<UUID> a Cinder backup, and a backup id reads back', () => {
    expect(parseSnapshotId(UUID)).toEqual({ kind: 'snapshot', id: UUID });
    expect(parseSnapshotId(`backup:${UUID}`)).toEqual({ kind: 'backup', id: UUID });
    expect(parseSnapshotId(backupSnapshotId(UUID))).toEqual({ kind: 'backup', id: UUID });
  });

  it.each(['', 'backup:', 'backup:not-a-uuid', `snapshot:${UUID}`, `${UUID}x`, `Backup:${UUID}`])('%j names nothing', (id) => {
    expect(parseSnapshotId(id)).toBeUndefined();
  });
});
