import { readFile } from 'node:fs/promises';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { CinderApi } from './api.js';
import * as att from './attachments.js';
import * as backups from './backups.js';
import * as groups from './groups.js';
import { KeystoneAuth, NoAuth, type AuthProvider } from './auth.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, InvalidClientConfigError, type CinderClientConfig } from './config.js';
import { AxiosTransport, type HttpTransport } from './http.js';
import { createCinderMetrics, type CinderMetrics } from './metrics.js';
import type { CinderFeatures } from './microversion.js';
import * as quotas from './quotas.js';
import type { CallOptions, RequestDeps } from './request.js';
import { DEFAULT_RETRY_POLICY, sleep, type RetryPolicy } from './retry.js';
import { SecretScrubber } from './secrets.js';
import * as snaps from './snapshots.js';
import type { AbsoluteLimits, Attachment, AvailabilityZone, Backup, Group, GroupSnapshot, Page, QuotaUsage, Snapshot, Volume, VolumeType } from './types.js';
import * as vols from './volumes.js';

/**
 * The one interface the controller programs against (and fakes in its unit tests). Every method
 * takes a trailing `opts` with the RPC's AbortSignal and deadline (an RpcContext fits).
 *
 * Errors: typed CinderError (see errors.ts: isNotFound, QuotaExceededError, isOutcomeUnknown, ...);
 * an aborted call rejects with the signal's reason. Lookups of one object (`get*`) throw a typed
 * not-found rather than returning undefined.
 */
export interface CinderClient {
  /** Negotiated microversion and feature flags (negotiates on first use). */
  features(opts?: CallOptions): Promise<CinderFeatures>;

  createVolume(r: vols.CreateVolumeRequest, opts?: CallOptions): Promise<Volume>;
  getVolume(id: string, opts?: CallOptions): Promise<Volume>;
  listVolumes(r?: vols.ListVolumesRequest, opts?: CallOptions): Promise<Page<Volume>>;
  listAllVolumes(filter?: vols.VolumeFilter, opts?: CallOptions): Promise<Volume[]>;
  deleteVolume(id: string, opts?: CallOptions): Promise<void>;
  extendVolume(id: string, newSizeGiB: number, opts?: CallOptions): Promise<void>;
  retypeVolume(id: string, newType: string, policy: vols.MigrationPolicy, opts?: CallOptions): Promise<void>;
  setVolumeMetadata(id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>>;
  replaceVolumeMetadata(id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>>;

  createSnapshot(r: snaps.CreateSnapshotRequest, opts?: CallOptions): Promise<Snapshot>;
  getSnapshot(id: string, opts?: CallOptions): Promise<Snapshot>;
  listSnapshots(r?: snaps.ListSnapshotsRequest, opts?: CallOptions): Promise<Page<Snapshot>>;
  listAllSnapshots(filter?: Omit<snaps.ListSnapshotsRequest, 'limit' | 'marker'>, opts?: CallOptions): Promise<Snapshot[]>;
  deleteSnapshot(id: string, opts?: CallOptions): Promise<void>;

  createBackup(r: backups.CreateBackupRequest, opts?: CallOptions): Promise<{ id: string }>;
  getBackup(id: string, opts?: CallOptions): Promise<Backup>;
  listBackups(r?: backups.ListBackupsRequest, opts?: CallOptions): Promise<Page<Backup>>;
  listAllBackups(filter?: Omit<backups.ListBackupsRequest, 'limit' | 'marker'>, opts?: CallOptions): Promise<Backup[]>;
  deleteBackup(id: string, opts?: CallOptions): Promise<void>;

  createGroup(r: groups.CreateGroupRequest, opts?: CallOptions): Promise<{ id: string }>;
  getGroup(id: string, opts?: CallOptions): Promise<Group>;
  listAllGroups(opts?: CallOptions): Promise<Group[]>;
  updateGroup(id: string, r: groups.UpdateGroupRequest, opts?: CallOptions): Promise<void>;
  deleteGroup(id: string, opts?: CallOptions): Promise<void>;
  createGroupSnapshot(r: { groupId: string; name: string; description?: string }, opts?: CallOptions): Promise<{ id: string }>;
  setSnapshotMetadata(id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<void>;
  getGroupSnapshot(id: string, opts?: CallOptions): Promise<GroupSnapshot>;
  listAllGroupSnapshots(opts?: CallOptions): Promise<GroupSnapshot[]>;
  deleteGroupSnapshot(id: string, opts?: CallOptions): Promise<void>;

  createAttachment(r: att.CreateAttachmentRequest, opts?: CallOptions): Promise<Attachment>;
  getAttachment(id: string, opts?: CallOptions): Promise<Attachment>;
  listAttachments(r: { volumeId: string }, opts?: CallOptions): Promise<Attachment[]>;
  completeAttachment(id: string, opts?: CallOptions): Promise<void>;
  deleteAttachment(id: string, opts?: CallOptions): Promise<void>;

  getQuotaUsage(opts?: CallOptions): Promise<QuotaUsage>;
  getLimits(opts?: CallOptions): Promise<AbsoluteLimits>;
  listAvailabilityZones(opts?: CallOptions): Promise<AvailabilityZone[]>;
  listVolumeTypes(opts?: CallOptions): Promise<VolumeType[]>;
  getVolumeType(nameOrId: string, opts?: CallOptions): Promise<VolumeType>;
}

export interface ClientDeps {
  log?: Logger;
  /** Defaults to axios with keep-alive agents (and the configured CA / insecure TLS). */
  transport?: HttpTransport;
  metrics?: CinderMetrics;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** CA bundle contents; read from config.caFile by createCinderClient. */
  ca?: Buffer | string;
}

export class HttpCinderClient implements CinderClient {
  readonly api: CinderApi;
  readonly auth: AuthProvider;
  private readonly transport: HttpTransport;

  constructor(config: CinderClientConfig, deps: ClientDeps = {}) {
    const log = deps.log ?? silentLogger();
    if (config.tlsInsecure) log.warn('cinder: TLS certificate verification is DISABLED (tls-insecure); use ca-file instead');
    this.transport = deps.transport ?? new AxiosTransport({ ca: deps.ca, insecure: config.tlsInsecure });
    const requestDeps: RequestDeps = {
      transport: this.transport,
      metrics: deps.metrics ?? createCinderMetrics(),
      log,
      scrubber: new SecretScrubber(),
      retry: { ...DEFAULT_RETRY_POLICY, ...deps.retry },
      requestTimeoutMs: config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      now: deps.now ?? Date.now,
      random: deps.random ?? Math.random,
      sleep: deps.sleep ?? sleep,
    };
    if (config.authStrategy === 'keystone') this.auth = new KeystoneAuth(config, requestDeps);
    else if (config.authStrategy === 'noauth') this.auth = new NoAuth(config);
    else throw new InvalidClientConfigError(`auth-strategy must be keystone or noauth`);
    this.api = new CinderApi(this.auth, requestDeps);
  }

  /** Frees pooled connections. */
  close(): void {
    this.transport.close();
  }

  features(opts?: CallOptions): Promise<CinderFeatures> {
    return this.api.features(opts);
  }

  createVolume(r: vols.CreateVolumeRequest, opts?: CallOptions): Promise<Volume> {
    return vols.createVolume(this.api, r, opts);
  }
  getVolume(id: string, opts?: CallOptions): Promise<Volume> {
    return vols.getVolume(this.api, id, opts);
  }
  listVolumes(r?: vols.ListVolumesRequest, opts?: CallOptions): Promise<Page<Volume>> {
    return vols.listVolumes(this.api, r, opts);
  }
  listAllVolumes(filter?: vols.VolumeFilter, opts?: CallOptions): Promise<Volume[]> {
    return vols.listAllVolumes(this.api, filter, opts);
  }
  deleteVolume(id: string, opts?: CallOptions): Promise<void> {
    return vols.deleteVolume(this.api, id, opts);
  }
  extendVolume(id: string, newSizeGiB: number, opts?: CallOptions): Promise<void> {
    return vols.extendVolume(this.api, id, newSizeGiB, opts);
  }

  retypeVolume(id: string, newType: string, policy: vols.MigrationPolicy, opts?: CallOptions): Promise<void> {
    return vols.retypeVolume(this.api, id, newType, policy, opts);
  }
  setVolumeMetadata(id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>> {
    return vols.setVolumeMetadata(this.api, id, metadata, opts);
  }
  replaceVolumeMetadata(id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<Record<string, string>> {
    return vols.replaceVolumeMetadata(this.api, id, metadata, opts);
  }

  createSnapshot(r: snaps.CreateSnapshotRequest, opts?: CallOptions): Promise<Snapshot> {
    return snaps.createSnapshot(this.api, r, opts);
  }
  getSnapshot(id: string, opts?: CallOptions): Promise<Snapshot> {
    return snaps.getSnapshot(this.api, id, opts);
  }
  listSnapshots(r?: snaps.ListSnapshotsRequest, opts?: CallOptions): Promise<Page<Snapshot>> {
    return snaps.listSnapshots(this.api, r, opts);
  }
  listAllSnapshots(filter?: Omit<snaps.ListSnapshotsRequest, 'limit' | 'marker'>, opts?: CallOptions): Promise<Snapshot[]> {
    return snaps.listAllSnapshots(this.api, filter, opts);
  }
  deleteSnapshot(id: string, opts?: CallOptions): Promise<void> {
    return snaps.deleteSnapshot(this.api, id, opts);
  }

  createBackup(r: backups.CreateBackupRequest, opts?: CallOptions): Promise<{ id: string }> {
    return backups.createBackup(this.api, r, opts);
  }
  getBackup(id: string, opts?: CallOptions): Promise<Backup> {
    return backups.getBackup(this.api, id, opts);
  }
  listBackups(r?: backups.ListBackupsRequest, opts?: CallOptions): Promise<Page<Backup>> {
    return backups.listBackups(this.api, r, opts);
  }
  listAllBackups(filter?: Omit<backups.ListBackupsRequest, 'limit' | 'marker'>, opts?: CallOptions): Promise<Backup[]> {
    return backups.listAllBackups(this.api, filter, opts);
  }
  deleteBackup(id: string, opts?: CallOptions): Promise<void> {
    return backups.deleteBackup(this.api, id, opts);
  }

  createGroup(r: groups.CreateGroupRequest, opts?: CallOptions): Promise<{ id: string }> {
    return groups.createGroup(this.api, r, opts);
  }
  getGroup(id: string, opts?: CallOptions): Promise<Group> {
    return groups.getGroup(this.api, id, opts);
  }
  listAllGroups(opts?: CallOptions): Promise<Group[]> {
    return groups.listAllGroups(this.api, opts);
  }
  updateGroup(id: string, r: groups.UpdateGroupRequest, opts?: CallOptions): Promise<void> {
    return groups.updateGroup(this.api, id, r, opts);
  }
  deleteGroup(id: string, opts?: CallOptions): Promise<void> {
    return groups.deleteGroup(this.api, id, opts);
  }
  createGroupSnapshot(r: { groupId: string; name: string; description?: string }, opts?: CallOptions): Promise<{ id: string }> {
    return groups.createGroupSnapshot(this.api, r, opts);
  }
  setSnapshotMetadata(id: string, metadata: Record<string, string>, opts?: CallOptions): Promise<void> {
    return snaps.setSnapshotMetadata(this.api, id, metadata, opts);
  }
  getGroupSnapshot(id: string, opts?: CallOptions): Promise<GroupSnapshot> {
    return groups.getGroupSnapshot(this.api, id, opts);
  }
  listAllGroupSnapshots(opts?: CallOptions): Promise<GroupSnapshot[]> {
    return groups.listAllGroupSnapshots(this.api, opts);
  }
  deleteGroupSnapshot(id: string, opts?: CallOptions): Promise<void> {
    return groups.deleteGroupSnapshot(this.api, id, opts);
  }

  createAttachment(r: att.CreateAttachmentRequest, opts?: CallOptions): Promise<Attachment> {
    return att.createAttachment(this.api, r, opts);
  }
  getAttachment(id: string, opts?: CallOptions): Promise<Attachment> {
    return att.getAttachment(this.api, id, opts);
  }
  listAttachments(r: { volumeId: string }, opts?: CallOptions): Promise<Attachment[]> {
    return att.listAttachments(this.api, r, opts);
  }
  completeAttachment(id: string, opts?: CallOptions): Promise<void> {
    return att.completeAttachment(this.api, id, opts);
  }
  deleteAttachment(id: string, opts?: CallOptions): Promise<void> {
    return att.deleteAttachment(this.api, id, opts);
  }

  getQuotaUsage(opts?: CallOptions): Promise<QuotaUsage> {
    return quotas.getQuotaUsage(this.api, opts);
  }
  getLimits(opts?: CallOptions): Promise<AbsoluteLimits> {
    return quotas.getLimits(this.api, opts);
  }
  listAvailabilityZones(opts?: CallOptions): Promise<AvailabilityZone[]> {
    return quotas.listAvailabilityZones(this.api, opts);
  }
  listVolumeTypes(opts?: CallOptions): Promise<VolumeType[]> {
    return quotas.listVolumeTypes(this.api, opts);
  }
  getVolumeType(nameOrId: string, opts?: CallOptions): Promise<VolumeType> {
    return quotas.getVolumeType(this.api, nameOrId, opts);
  }
}

/** Builds the client from config, reading the CA bundle first (a clear error names the key). */
export async function createCinderClient(config: CinderClientConfig, deps: ClientDeps = {}): Promise<HttpCinderClient> {
  let ca = deps.ca;
  if (config.caFile && ca === undefined && !deps.transport) {
    try {
      ca = await readFile(config.caFile);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new InvalidClientConfigError(`ca-file ${config.caFile} cannot be read (${code})`);
    }
  }
  return new HttpCinderClient(config, { ...deps, ca });
}
