/**
 * The in-memory "database": volumes, snapshots, attachments, volume types and quota overrides.
 * Records hold raw values (epoch ms, nulls); views.ts turns them into Cinder's JSON.
 */

export interface VolumeRecord {
  id: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  attachStatus: 'detached' | 'attached';
  availabilityZone: string;
  typeId: string;
  snapshotId: string | null;
  sourceVolid: string | null;
  metadata: Record<string, string>;
  multiattach: boolean;
  /** Cinder's read-only flag (admin metadata `readonly`, set by os-update_readonly_flag). */
  readonly?: boolean;
  bootable: boolean;
  host: string | null;
  createdAt: number;
  updatedAt: number | null;
  /** Insertion order: the tie-breaker of "newest first". */
  seq: number;
  /** The backing sparse file (local backend), created when the volume becomes available. */
  filePath: string | null;
  /** Bumped on every status change so a delayed transition can tell it was overtaken. */
  generation: number;
  /** The generic volume group it is in (3.13). */
  groupId?: string | null;
}

export interface SnapshotRecord {
  id: string;
  projectId: string;
  userId: string;
  volumeId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  metadata: Record<string, string>;
  createdAt: number;
  updatedAt: number | null;
  seq: number;
  filePath: string | null;
  generation: number;
  /** The group snapshot it was cut in (3.14): Cinder deletes it only with that. */
  groupSnapshotId?: string | null;
}

export interface BackupRecord {
  id: string;
  projectId: string;
  userId: string;
  /** Kept after the volume is deleted, as Cinder does. */
  volumeId: string;
  name: string | null;
  description: string | null;
  size: number;
  /** creating | available | restoring | deleting | error */
  status: string;
  metadata: Record<string, string>;
  /** The volume's own metadata when it was backed up: a restore puts it on the target volume. */
  volumeMetadata: Record<string, string>;
  /** The backup an incremental one builds on. */
  parentId: string | null;
  availabilityZone: string;
  createdAt: number;
  updatedAt: number | null;
  seq: number;
  /** A copy of the volume's data (local backend), kept under the state dir. */
  filePath: string | null;
  generation: number;
}

export interface GroupTypeRecord {
  id: string;
  name: string;
  isPublic: boolean;
  groupSpecs: Record<string, string>;
}

export interface GroupRecord {
  id: string;
  projectId: string;
  name: string | null;
  description: string | null;
  /** creating | available | updating | deleting | error */
  status: string;
  groupTypeId: string;
  volumeTypeIds: string[];
  availabilityZone: string;
  createdAt: number;
  updatedAt: number | null;
  seq: number;
  generation: number;
}

export interface GroupSnapshotRecord {
  id: string;
  projectId: string;
  groupId: string;
  name: string | null;
  description: string | null;
  /** creating | available | deleting | error */
  status: string;
  createdAt: number;
  updatedAt: number | null;
  seq: number;
  generation: number;
}

export interface AttachmentRecord {
  id: string;
  projectId: string;
  volumeId: string;
  instanceUuid: string | null;
  /** reserved | attaching | attached */
  status: string;
  connector: Record<string, unknown> | null;
  connectionInfo: Record<string, unknown> | null;
  /** "null" (a string!) unless a mode was given at >= 3.54. */
  attachMode: string;
  attachedHost: string | null;
  mountpoint: string | null;
  attachedAt: number | null;
  createdAt: number;
  seq: number;
}

export interface VolumeTypeRecord {
  id: string;
  name: string;
  description: string | null;
  extraSpecs: Record<string, string>;
}

export class Store {
  readonly volumes = new Map<string, VolumeRecord>();
  readonly snapshots = new Map<string, SnapshotRecord>();
  readonly backups = new Map<string, BackupRecord>();
  readonly groupTypes = new Map<string, GroupTypeRecord>();
  readonly groups = new Map<string, GroupRecord>();
  readonly groupSnapshots = new Map<string, GroupSnapshotRecord>();
  /** Read freely; change only through addAttachment/removeAttachment (they keep the per-volume index). */
  readonly attachments = new Map<string, AttachmentRecord>();
  private readonly attachmentsByVolume = new Map<string, Map<string, AttachmentRecord>>();
  readonly types = new Map<string, VolumeTypeRecord>();
  /** Per-project quota overrides (PUT /os-quota-sets). */
  readonly quotaOverrides = new Map<string, Record<string, number>>();
  private seq = 0;

  nextSeq(): number {
    this.seq += 1;
    return this.seq;
  }

  addAttachment(a: AttachmentRecord): void {
    this.attachments.set(a.id, a);
    let m = this.attachmentsByVolume.get(a.volumeId);
    if (!m) {
      m = new Map();
      this.attachmentsByVolume.set(a.volumeId, m);
    }
    m.set(a.id, a);
  }

  removeAttachment(a: AttachmentRecord): void {
    this.attachments.delete(a.id);
    const m = this.attachmentsByVolume.get(a.volumeId);
    m?.delete(a.id);
    if (m?.size === 0) this.attachmentsByVolume.delete(a.volumeId);
  }

  /** Oldest first. Indexed: volume detail lists call this once per volume. */
  attachmentsOf(volumeId: string): AttachmentRecord[] {
    const m = this.attachmentsByVolume.get(volumeId);
    return m ? [...m.values()].sort((a, b) => a.seq - b.seq) : [];
  }

  snapshotsOf(volumeId: string): SnapshotRecord[] {
    return [...this.snapshots.values()].filter((s) => s.volumeId === volumeId);
  }

  typeByNameOrId(ref: string): VolumeTypeRecord | undefined {
    const byId = this.types.get(ref);
    if (byId) return byId;
    return [...this.types.values()].find((t) => t.name === ref);
  }
}
