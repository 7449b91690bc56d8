import { randomUUID } from 'node:crypto';
import type { CinderClient } from '../../src/cinder/client.js';
import { CinderError } from '../../src/cinder/errors.js';
import { featuresFor, type CinderFeatures } from '../../src/cinder/microversion.js';
import type { Attachment, Backup, Page, QuotaUsage, Snapshot, Volume, VolumeType } from '../../src/cinder/types.js';
import type { WaitOptions, WaitResult } from '../../src/cinder/waiter.js';
import type { Waiters } from '../../src/services/controller/wait.js';

/**
 * An in-memory CinderClient for unit tests: objects become available at once (or stay as the
 * test sets them), every call is recorded, and a test may make the next call of a method fail.
 */
export class FakeCinder implements CinderClient {
  volumes = new Map<string, Volume>();
  snapshots = new Map<string, Snapshot>();
  backups = new Map<string, Backup>();
  attachments = new Map<string, Attachment>();
  types: VolumeType[] = [
    { id: randomUUID(), name: 'plain', extraSpecs: {}, isMultiattach: false },
    { id: randomUUID(), name: 'multi', extraSpecs: { multiattach: '<is> True' }, isMultiattach: true },
  ];
  quota: QuotaUsage = { gigabytes: { limit: 100, inUse: 10, reserved: 0 } };
  calls: string[] = [];
  /** Method name → errors thrown by its next calls, in order. */
  failNext = new Map<string, Error[]>();
  /** Method name → a hook run before its next call (e.g. another replica acting meanwhile). */
  before = new Map<string, () => void>();
  /** Status new volumes get. */
  createStatus = 'available';
  private clock = 0;
  microversion = { major: 3, minor: 70 };

  private enter(method: string): void {
    this.calls.push(method);
    const hook = this.before.get(method);
    if (hook) {
      this.before.delete(method);
      hook();
    }
    const errs = this.failNext.get(method);
    const err = errs?.shift();
    if (err) throw err;
  }

  stamp(): string {
    this.clock++;
    return new Date(Date.UTC(2024, 0, 1, 0, 0, this.clock)).toISOString().replace('Z', '');
  }

  features(): Promise<CinderFeatures> {
    return Promise.resolve(featuresFor(this.microversion));
  }

  async createVolume(r: Parameters<CinderClient['createVolume']>[0]): Promise<Volume> {
    this.enter('createVolume');
    const v: Volume = {
      id: randomUUID(),
      name: r.name,
      status: this.createStatus,
      size: r.size,
      metadata: { ...(r.metadata ?? {}) },
      ...(r.description ? { description: r.description } : {}),
      attachments: [],
      multiattach: this.types.find((t) => t.name === r.volumeType)?.isMultiattach ?? false,
      availabilityZone: r.availabilityZone ?? 'nova',
      ...(r.volumeType ? { volumeType: r.volumeType } : {}),
      ...(r.snapshotId ? { snapshotId: r.snapshotId } : {}),
      ...(r.sourceVolId ? { sourceVolId: r.sourceVolId } : {}),
      createdAt: this.stamp(),
    };
    this.volumes.set(v.id, v);
    return structuredClone(v);
  }

  async getVolume(id: string): Promise<Volume> {
    this.enter('getVolume');
    const v = this.volumes.get(id);
    if (!v) throw notFound();
    return structuredClone(v);
  }

  async listVolumes(r: Parameters<CinderClient['listVolumes']>[0] = {}): Promise<Page<Volume>> {
    this.enter('listVolumes');
    const all = [...this.volumes.values()].filter((v) => matches(v, r.name, r.metadata));
    return page(all, r.limit, r.marker);
  }

  async listAllVolumes(f: Parameters<CinderClient['listAllVolumes']>[0] = {}): Promise<Volume[]> {
    this.enter('listAllVolumes');
    return [...this.volumes.values()].filter((v) => matches(v, f.name, f.metadata)).map((v) => structuredClone(v));
  }

  async deleteVolume(id: string): Promise<void> {
    this.enter('deleteVolume');
    if (!this.volumes.delete(id)) throw notFound();
  }

  async extendVolume(id: string, size: number): Promise<void> {
    this.enter('extendVolume');
    const v = this.volumes.get(id);
    if (!v) throw notFound();
    v.size = size;
  }

  async retypeVolume(id: string, newType: string): Promise<void> {
    this.enter('retypeVolume');
    const v = this.volumes.get(id);
    if (!v) throw notFound();
    v.volumeType = newType;
  }

  async setVolumeMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
    this.enter('setVolumeMetadata');
    const v = this.volumes.get(id);
    if (!v) throw notFound();
    Object.assign(v.metadata, metadata);
    return { ...v.metadata };
  }

  async replaceVolumeMetadata(id: string, metadata: Record<string, string>): Promise<Record<string, string>> {
    this.enter('replaceVolumeMetadata');
    const v = this.volumes.get(id);
    if (!v) throw notFound();
    v.metadata = { ...metadata };
    return { ...v.metadata };
  }

  async createSnapshot(r: Parameters<CinderClient['createSnapshot']>[0]): Promise<Snapshot> {
    this.enter('createSnapshot');
    const vol = this.volumes.get(r.volumeId);
    if (!vol) throw notFound();
    const s: Snapshot = { id: randomUUID(), name: r.name, volumeId: r.volumeId, status: 'available', size: vol.size, metadata: { ...(r.metadata ?? {}) }, createdAt: this.stamp() };
    this.snapshots.set(s.id, s);
    return structuredClone(s);
  }

  async getSnapshot(id: string): Promise<Snapshot> {
    this.enter('getSnapshot');
    const s = this.snapshots.get(id);
    if (!s) throw notFound();
    return structuredClone(s);
  }

  async listSnapshots(r: Parameters<CinderClient['listSnapshots']>[0] = {}): Promise<Page<Snapshot>> {
    this.enter('listSnapshots');
    const all = [...this.snapshots.values()].filter((s) => (!r.name || s.name === r.name) && (!r.volumeId || s.volumeId === r.volumeId) && (!r.status || s.status === r.status));
    return page(all, r.limit, r.marker);
  }

  async listAllSnapshots(f: Parameters<CinderClient['listAllSnapshots']>[0] = {}): Promise<Snapshot[]> {
    this.enter('listAllSnapshots');
    return [...this.snapshots.values()]
      .filter((s) => (!f.name || s.name === f.name) && (!f.volumeId || s.volumeId === f.volumeId) && (!f.status || s.status === f.status))
      .filter((s) => Object.entries(f.metadata ?? {}).every(([k, v]) => s.metadata[k] === v))
      .map((s) => structuredClone(s));
  }

  async deleteSnapshot(id: string): Promise<void> {
    this.enter('deleteSnapshot');
    if (!this.snapshots.delete(id)) throw notFound();
  }

  async createBackup(r: Parameters<CinderClient['createBackup']>[0]): Promise<{ id: string }> {
    this.enter('createBackup');
    const vol = this.volumes.get(r.volumeId);
    if (!vol) throw notFound();
    if (vol.status === 'in-use' && r.force !== true) throw badRequest('Backing up an in-use volume must use the force flag.');
    const b: Backup = {
      id: randomUUID(),
      name: r.name,
      volumeId: r.volumeId,
      status: 'available',
      size: vol.size,
      isIncremental: r.incremental === true,
      hasDependentBackups: false,
      metadata: { ...(r.metadata ?? {}) },
      createdAt: this.stamp(),
    };
    if (b.isIncremental) {
      const parent = [...this.backups.values()].filter((x) => x.volumeId === r.volumeId).at(-1);
      if (!parent) throw badRequest('No backups available to do an incremental backup.');
      parent.hasDependentBackups = true;
    }
    this.backups.set(b.id, b);
    return { id: b.id };
  }

  async getBackup(id: string): Promise<Backup> {
    this.enter('getBackup');
    const b = this.backups.get(id);
    if (!b) throw notFound();
    return structuredClone(b);
  }

  async listBackups(r: Parameters<CinderClient['listBackups']>[0] = {}): Promise<Page<Backup>> {
    this.enter('listBackups');
    return page(this.backupsMatching(r), r.limit, r.marker);
  }

  async listAllBackups(f: Parameters<CinderClient['listAllBackups']>[0] = {}): Promise<Backup[]> {
    this.enter('listAllBackups');
    return this.backupsMatching(f).map((b) => structuredClone(b));
  }

  private backupsMatching(f: { name?: string; volumeId?: string; status?: string }): Backup[] {
    return [...this.backups.values()].filter((b) => (!f.name || b.name === f.name) && (!f.volumeId || b.volumeId === f.volumeId) && (!f.status || b.status === f.status));
  }

  async deleteBackup(id: string): Promise<void> {
    this.enter('deleteBackup');
    const b = this.backups.get(id);
    if (!b) throw notFound();
    if (b.hasDependentBackups) throw badRequest('Incremental backups exist for this backup.');
    this.backups.delete(id);
  }

  // Groups are not modelled here: group snapshots are tested over the emulator (test/controller).
  createGroup(): never {
    throw new Error('FakeCinder does not model groups');
  }
  getGroup(): never {
    throw new Error('FakeCinder does not model groups');
  }
  listAllGroups(): never {
    throw new Error('FakeCinder does not model groups');
  }
  updateGroup(): never {
    throw new Error('FakeCinder does not model groups');
  }
  deleteGroup(): never {
    throw new Error('FakeCinder does not model groups');
  }
  createGroupSnapshot(): never {
    throw new Error('FakeCinder does not model groups');
  }
  getGroupSnapshot(): never {
    throw new Error('FakeCinder does not model groups');
  }
  listAllGroupSnapshots(): never {
    throw new Error('FakeCinder does not model groups');
  }
  deleteGroupSnapshot(): never {
    throw new Error('FakeCinder does not model groups');
  }
  async setSnapshotMetadata(id: string, metadata: Record<string, string>): Promise<void> {
    this.enter('setSnapshotMetadata');
    const s = this.snapshots.get(id);
    if (!s) throw notFound();
    Object.assign(s.metadata, metadata);
  }

  async createAttachment(r: Parameters<CinderClient['createAttachment']>[0]): Promise<Attachment> {
    this.enter('createAttachment');
    const a: Attachment = {
      id: randomUUID(),
      status: 'attaching',
      volumeId: r.volumeId,
      ...(r.mode ? { attachMode: r.mode } : {}),
      connectionInfo: { driver_volume_type: 'local', device_path: `/dev/fake/${r.volumeId}`, access_mode: 'rw' },
      connector: r.connector as Record<string, unknown>,
    };
    this.attachments.set(a.id, a);
    return structuredClone(a);
  }

  async getAttachment(id: string): Promise<Attachment> {
    this.enter('getAttachment');
    const a = this.attachments.get(id);
    if (!a) throw notFound();
    return structuredClone(a);
  }

  async listAttachments(r: { volumeId: string }): Promise<Attachment[]> {
    this.enter('listAttachments');
    return [...this.attachments.values()].filter((a) => a.volumeId === r.volumeId).map((a) => structuredClone(a));
  }

  async completeAttachment(id: string): Promise<void> {
    this.enter('completeAttachment');
    const a = this.attachments.get(id);
    if (!a) throw notFound();
    a.status = 'attached';
    const v = this.volumes.get(a.volumeId);
    if (v) {
      v.status = 'in-use';
      const host = a.connector?.host;
      v.attachments.push({ attachmentId: a.id, ...(typeof host === 'string' ? { hostName: host } : {}) });
    }
  }

  async deleteAttachment(id: string): Promise<void> {
    this.enter('deleteAttachment');
    const a = this.attachments.get(id);
    if (!a) throw notFound();
    this.attachments.delete(id);
    const v = this.volumes.get(a.volumeId);
    if (v) {
      v.attachments = v.attachments.filter((x) => x.attachmentId !== id);
      if (v.attachments.length === 0) v.status = 'available';
    }
  }

  async getQuotaUsage(): Promise<QuotaUsage> {
    this.enter('getQuotaUsage');
    return structuredClone(this.quota);
  }

  async getLimits(): Promise<Record<string, number>> {
    return {};
  }

  async listAvailabilityZones(): Promise<Array<{ name: string; available: boolean }>> {
    return [{ name: 'nova', available: true }];
  }

  async listVolumeTypes(): Promise<VolumeType[]> {
    return this.types;
  }

  async getVolumeType(nameOrId: string): Promise<VolumeType> {
    this.enter('getVolumeType');
    const t = this.types.find((x) => x.name === nameOrId || x.id === nameOrId);
    if (!t) throw notFound();
    return t;
  }

  /** Waiters that look once: objects here never change on their own. */
  waiters(): Waiters {
    const once = <T extends { id: string; status: string }>(get: (id: string) => T | undefined) => ({
      waitFor: async (id: string, o: WaitOptions<T>): Promise<WaitResult<T>> => {
        const obj = get(id);
        if (!obj) return { outcome: 'gone' };
        const v = o.until(obj);
        if (v === 'done') return { outcome: 'done', object: structuredClone(obj) };
        if (v === 'failed' || obj.status.startsWith('error')) return { outcome: 'failed', object: structuredClone(obj) };
        return { outcome: 'timeout', last: structuredClone(obj) };
      },
    });
    return { volumes: once((id) => this.volumes.get(id)), snapshots: once((id) => this.snapshots.get(id)), backups: once((id) => this.backups.get(id)) };
  }
}

export function notFound(): CinderError {
  return new CinderError({ kind: 'http', status: 404, cinderCode: 'itemNotFound', method: 'GET', route: '/x', message: 'not found' });
}

export function badRequest(message: string): CinderError {
  return new CinderError({ kind: 'http', status: 400, cinderCode: 'badRequest', method: 'POST', route: '/x', message });
}

export function lostReply(method = 'POST', route = '/volumes'): CinderError {
  return new CinderError({ kind: 'network', method, route, message: 'socket hang up', outcomeUnknown: true });
}

function matches(v: Volume, name?: string, metadata?: Record<string, string>): boolean {
  if (name !== undefined && v.name !== name) return false;
  return Object.entries(metadata ?? {}).every(([k, val]) => v.metadata[k] === val);
}

function page<T extends { id: string }>(all: T[], limit?: number, marker?: string): Page<T> {
  let start = 0;
  if (marker) {
    const i = all.findIndex((x) => x.id === marker);
    if (i < 0) throw notFound();
    start = i + 1;
  }
  const rest = all.slice(start).map((x) => structuredClone(x));
  if (!limit || rest.length <= limit) return { items: rest };
  const items = rest.slice(0, limit);
  return { items, nextMarker: items[items.length - 1]?.id as string };
}
