/**
 * Cinder resources as the driver sees them, and the validation that turns a parsed JSON body
 * into them. Everything a response carries is `unknown` until it passed through a parser here;
 * a body of the wrong shape raises ShapeError (the client turns it into an INTERNAL-kind
 * CinderError naming the field), never a TypeError deep inside a service.
 */

export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

type Rec = Record<string, unknown>;

export function asObject(v: unknown, path: string): Rec {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ShapeError(`${path} is not an object`);
  return v as Rec;
}

export function asArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(`${path} is not a list`);
  return v;
}

function reqString(o: Rec, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v === '') throw new ShapeError(`${path}.${key} is missing or not a string`);
  return v;
}

/** Optional string: null, absent and "" (Cinder's unset timestamps) are all undefined. */
function optString(o: Rec, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ShapeError(`${path}.${key} is not a string`);
  return v;
}

function reqInt(o: Rec, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ShapeError(`${path}.${key} is missing or not a whole number`);
  return v;
}

/** Booleans Cinder sometimes sends as strings (`bootable: "false"`). */
function optBool(o: Rec, key: string, path: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ShapeError(`${path}.${key} is not a boolean`);
}

export function stringMapOf(v: unknown, path: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  const o = asObject(v, path);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val === 'string') out[k] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else if (val === null) out[k] = '';
    else throw new ShapeError(`${path}.${k} is not a string`);
  }
  return out;
}

// ---------------------------------------------------------------- volumes

/** An entry of `volume.attachments[]`: only completed attachments appear here. */
export interface VolumeAttachmentRef {
  attachmentId: string;
  /** The connector's `host` at attach time: how the driver recognises its node. */
  hostName?: string;
  serverId?: string;
  device?: string;
  attachedAt?: string;
}

export interface Volume {
  id: string;
  name?: string;
  description?: string;
  status: string;
  /** GiB. */
  size: number;
  metadata: Record<string, string>;
  attachments: VolumeAttachmentRef[];
  availabilityZone?: string;
  volumeType?: string;
  multiattach: boolean;
  snapshotId?: string;
  sourceVolId?: string;
  createdAt?: string;
  updatedAt?: string;
  migrationStatus?: string;
  /** `os-vol-host-attr:host` (admin view only). */
  host?: string;
  bootable?: boolean;
  encrypted?: boolean;
  /** 3.48+. */
  sharedTargets?: boolean;
  /**
   * 3.48+: the volume service that created it. Cinder writes it, with the final
   * `shared_targets`, in one more save *after* the volume turned `available`: until it is set,
   * `shared_targets` still holds the column default and `updated_at` may still move.
   */
  serviceUuid?: string;
  projectId?: string;
  /** 3.13+: the generic volume group the volume is in. */
  groupId?: string;
}

export function parseVolume(v: unknown, path = 'volume'): Volume {
  const o = asObject(v, path);
  const attachments = (o.attachments === undefined || o.attachments === null ? [] : asArray(o.attachments, `${path}.attachments`)).map((a, i) => {
    const p = `${path}.attachments[${i}]`;
    const r = asObject(a, p);
    return {
      attachmentId: reqString(r, 'attachment_id', p),
      hostName: optString(r, 'host_name', p),
      serverId: optString(r, 'server_id', p),
      device: optString(r, 'device', p),
      attachedAt: optString(r, 'attached_at', p),
    } satisfies VolumeAttachmentRef;
  });
  return {
    id: reqString(o, 'id', path),
    name: optString(o, 'name', path),
    description: optString(o, 'description', path),
    status: reqString(o, 'status', path),
    size: reqInt(o, 'size', path),
    metadata: stringMapOf(o.metadata, `${path}.metadata`),
    attachments,
    availabilityZone: optString(o, 'availability_zone', path),
    volumeType: optString(o, 'volume_type', path),
    multiattach: optBool(o, 'multiattach', path) ?? false,
    snapshotId: optString(o, 'snapshot_id', path),
    sourceVolId: optString(o, 'source_volid', path),
    createdAt: optString(o, 'created_at', path),
    updatedAt: optString(o, 'updated_at', path),
    migrationStatus: optString(o, 'migration_status', path),
    host: optString(o, 'os-vol-host-attr:host', path),
    bootable: optBool(o, 'bootable', path),
    encrypted: optBool(o, 'encrypted', path),
    sharedTargets: optBool(o, 'shared_targets', path),
    serviceUuid: optString(o, 'service_uuid', path),
    projectId: optString(o, 'os-vol-tenant-attr:tenant_id', path),
    groupId: optString(o, 'group_id', path),
  };
}

// ---------------------------------------------------------------- snapshots

export interface Snapshot {
  id: string;
  name?: string;
  description?: string;
  volumeId: string;
  status: string;
  size: number;
  metadata: Record<string, string>;
  createdAt?: string;
  updatedAt?: string;
  /** `os-extended-snapshot-attributes:progress`, e.g. "100%". */
  progress?: string;
  /** 3.14+: the group snapshot the snapshot was cut in; Cinder deletes it only with that. */
  groupSnapshotId?: string;
}

export function parseSnapshot(v: unknown, path = 'snapshot'): Snapshot {
  const o = asObject(v, path);
  return {
    id: reqString(o, 'id', path),
    name: optString(o, 'name', path),
    description: optString(o, 'description', path),
    volumeId: reqString(o, 'volume_id', path),
    status: reqString(o, 'status', path),
    size: reqInt(o, 'size', path),
    metadata: stringMapOf(o.metadata, `${path}.metadata`),
    createdAt: optString(o, 'created_at', path),
    updatedAt: optString(o, 'updated_at', path),
    progress: optString(o, 'os-extended-snapshot-attributes:progress', path),
    groupSnapshotId: optString(o, 'group_snapshot_id', path),
  };
}

// ---------------------------------------------------------------- backups

export interface Backup {
  id: string;
  name?: string;
  description?: string;
  /** The volume it was taken from; Cinder keeps the id after that volume is deleted. */
  volumeId: string;
  status: string;
  /** GiB: the source volume's size when the backup was taken. */
  size: number;
  isIncremental: boolean;
  /** An incremental backup depends on it: Cinder refuses to delete it until those are gone. */
  hasDependentBackups: boolean;
  /** Backup metadata (3.43). */
  metadata: Record<string, string>;
  createdAt?: string;
  updatedAt?: string;
  failReason?: string;
}

export function parseBackup(v: unknown, path = 'backup'): Backup {
  const o = asObject(v, path);
  return {
    id: reqString(o, 'id', path),
    name: optString(o, 'name', path),
    description: optString(o, 'description', path),
    volumeId: reqString(o, 'volume_id', path),
    status: reqString(o, 'status', path),
    size: reqInt(o, 'size', path),
    isIncremental: optBool(o, 'is_incremental', path) ?? false,
    hasDependentBackups: optBool(o, 'has_dependent_backups', path) ?? false,
    metadata: stringMapOf(o.metadata, `${path}.metadata`),
    createdAt: optString(o, 'created_at', path),
    updatedAt: optString(o, 'updated_at', path),
    failReason: optString(o, 'fail_reason', path),
  };
}

// ---------------------------------------------------------------- generic volume groups

export interface Group {
  id: string;
  name?: string;
  description?: string;
  status: string;
  /** The group type's id. */
  groupType?: string;
  /** Volume type ids the group takes. */
  volumeTypes: string[];
  createdAt?: string;
  /** With `list_volume=true` (3.25): the member volume ids. */
  volumes?: string[];
}

export function parseGroup(v: unknown, path = 'group'): Group {
  const o = asObject(v, path);
  const ids = (key: string): string[] =>
    o[key] === undefined || o[key] === null ? [] : asArray(o[key], `${path}.${key}`).map((x, i) => {
      if (typeof x !== 'string') throw new ShapeError(`${path}.${key}[${i}] is not a string`);
      return x;
    });
  return {
    id: reqString(o, 'id', path),
    name: optString(o, 'name', path),
    description: optString(o, 'description', path),
    status: reqString(o, 'status', path),
    groupType: optString(o, 'group_type', path),
    volumeTypes: ids('volume_types'),
    createdAt: optString(o, 'created_at', path),
    ...(o.volumes !== undefined ? { volumes: ids('volumes') } : {}),
  };
}

export interface GroupSnapshot {
  id: string;
  name?: string;
  description?: string;
  status: string;
  groupId: string;
  createdAt?: string;
}

export function parseGroupSnapshot(v: unknown, path = 'group_snapshot'): GroupSnapshot {
  const o = asObject(v, path);
  return {
    id: reqString(o, 'id', path),
    name: optString(o, 'name', path),
    description: optString(o, 'description', path),
    status: reqString(o, 'status', path),
    groupId: reqString(o, 'group_id', path),
    createdAt: optString(o, 'created_at', path),
  };
}

// ---------------------------------------------------------------- attachments

/** The host connector sent with `POST /attachments` (os-brick's connector properties). */
export interface HostConnector {
  initiator?: string;
  ip: string;
  host: string;
  multipath: boolean;
  platform: string;
  os_type: string;
  do_local_attach?: boolean;
  nqn?: string;
  wwpns?: string[];
  wwnns?: string[];
  [key: string]: unknown;
}

export interface Attachment {
  id: string;
  status: string;
  volumeId: string;
  /** Server (Nova instance) id: always absent for this driver's attachments. */
  instance?: string;
  attachedAt?: string;
  detachedAt?: string;
  /** ro/rw; undefined when Cinder says "null" (below 3.54, or unset). */
  attachMode?: 'ro' | 'rw';
  /** Flat: the backend's data merged with driver_volume_type, access_mode, ... Parse with parseConnectionInfo. */
  connectionInfo: Record<string, unknown>;
  connector?: Record<string, unknown>;
}

export function parseAttachment(v: unknown, path = 'attachment'): Attachment {
  const o = asObject(v, path);
  const mode = optString(o, 'attach_mode', path);
  const ci = o.connection_info;
  const connector = o.connector;
  return {
    id: reqString(o, 'id', path),
    status: reqString(o, 'status', path),
    volumeId: reqString(o, 'volume_id', path),
    instance: optString(o, 'instance', path),
    attachedAt: optString(o, 'attached_at', path),
    detachedAt: optString(o, 'detached_at', path),
    attachMode: mode === 'ro' || mode === 'rw' ? mode : undefined,
    connectionInfo: ci === undefined || ci === null ? {} : asObject(ci, `${path}.connection_info`),
    connector: connector === undefined || connector === null ? undefined : asObject(connector, `${path}.connector`),
  };
}

// ---------------------------------------------------------------- types, quotas, limits, zones

export interface VolumeType {
  id: string;
  name: string;
  description?: string;
  isPublic?: boolean;
  /** What Cinder shows us (all for an admin; the user-visible ones otherwise). */
  extraSpecs: Record<string, string>;
  /** extra spec `multiattach="<is> True"`. */
  isMultiattach: boolean;
}

/** Cinder's boolean extra-spec syntax: `<is> True`, or a bare `True`. */
export function extraSpecIsTrue(value: string | undefined): boolean {
  return value !== undefined && /^\s*(<is>\s*)?true\s*$/i.test(value);
}

export function parseVolumeType(v: unknown, path = 'volume_type'): VolumeType {
  const o = asObject(v, path);
  const extraSpecs = stringMapOf(o.extra_specs, `${path}.extra_specs`);
  return {
    id: reqString(o, 'id', path),
    name: reqString(o, 'name', path),
    description: optString(o, 'description', path),
    isPublic: optBool(o, 'os-volume-type-access:is_public', path) ?? optBool(o, 'is_public', path),
    extraSpecs,
    isMultiattach: extraSpecIsTrue(extraSpecs.multiattach),
  };
}

export interface QuotaUsageEntry {
  limit: number;
  inUse: number;
  reserved: number;
}
/** Per resource (`volumes`, `gigabytes`, `snapshots`, `gigabytes_<type>`, ...); -1 = unlimited. */
export type QuotaUsage = Record<string, QuotaUsageEntry>;

export function parseQuotaUsage(v: unknown, path = 'quota_set'): QuotaUsage {
  const o = asObject(v, path);
  const out: QuotaUsage = {};
  for (const [k, val] of Object.entries(o)) {
    if (k === 'id' || !val || typeof val !== 'object') continue;
    const r = val as Rec;
    if (typeof r.limit !== 'number' || typeof r.in_use !== 'number') continue;
    out[k] = { limit: r.limit, inUse: r.in_use, reserved: typeof r.reserved === 'number' ? r.reserved : 0 };
  }
  if (Object.keys(out).length === 0) throw new ShapeError(`${path} has no usage entries (was usage=true honoured?)`);
  return out;
}

/** `limits.absolute`: maxTotalVolumes, totalVolumesUsed, maxTotalVolumeGigabytes, ... */
export type AbsoluteLimits = Record<string, number>;

export function parseLimits(v: unknown, path = 'limits'): AbsoluteLimits {
  const o = asObject(v, path);
  const abs = asObject(o.absolute, `${path}.absolute`);
  const out: AbsoluteLimits = {};
  for (const [k, val] of Object.entries(abs)) if (typeof val === 'number') out[k] = val;
  return out;
}

export interface AvailabilityZone {
  name: string;
  available: boolean;
}

export function parseAvailabilityZone(v: unknown, path = 'availabilityZoneInfo[]'): AvailabilityZone {
  const o = asObject(v, path);
  const state = o.zoneState === undefined || o.zoneState === null ? {} : asObject(o.zoneState, `${path}.zoneState`);
  return { name: reqString(o, 'zoneName', path), available: state.available === true };
}

// ---------------------------------------------------------------- lists

export interface Page<T> {
  items: T[];
  /** Marker for the next page; absent when this was the last one. */
  nextMarker?: string;
}

/** The `marker` of a `{"rel":"next","href":"…?limit=2&marker=<id>"}` link, if any. */
export function nextMarkerFromLinks(links: unknown): string | undefined {
  if (!Array.isArray(links)) return undefined;
  for (const l of links) {
    if (!l || typeof l !== 'object') continue;
    const r = l as Rec;
    if (r.rel !== 'next' || typeof r.href !== 'string') continue;
    try {
      return new URL(r.href, 'http://x/').searchParams.get('marker') ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
