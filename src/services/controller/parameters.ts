import { invalidArgument } from '../../util/errors.js';
import { CINDER_META_MAX } from './constants.js';

/**
 * StorageClass / VolumeSnapshotClass parameters. Unknown keys are refused by name: a typo in a
 * StorageClass would otherwise silently give users a volume of the wrong type.
 */
export interface VolumeParameters {
  /** Cinder volume type name; undefined = the project's default type. */
  volumeType?: string;
  /** Cinder availability zone. */
  availability?: string;
  /** From --extra-create-metadata: stored as Cinder metadata so operators can map volumes to PVCs. */
  metadata: Record<string, string>;
}

export const PARAM_TYPE = 'type';
/** The key cloud-provider-openstack users may already have in their StorageClasses. */
export const PARAM_TYPE_ALIAS = 'cinderVolumeType';
export const PARAM_AVAILABILITY = 'availability';

export const VOLUME_METADATA_PARAMS: readonly string[] = [
  'csi.storage.k8s.io/pvc/name',
  'csi.storage.k8s.io/pvc/namespace',
  'csi.storage.k8s.io/pv/name',
];
export const SNAPSHOT_METADATA_PARAMS: readonly string[] = [
  'csi.storage.k8s.io/volumesnapshot/name',
  'csi.storage.k8s.io/volumesnapshot/namespace',
  'csi.storage.k8s.io/volumesnapshotcontent/name',
];

export function parseVolumeParameters(params: Record<string, string> | undefined, field = 'parameters'): VolumeParameters {
  const out: VolumeParameters = { metadata: {} };
  for (const [key, value] of Object.entries(params ?? {})) {
    checkLength(key, value, field);
    if (key === PARAM_TYPE || key === PARAM_TYPE_ALIAS) {
      if (value === '') continue;
      if (out.volumeType !== undefined && out.volumeType !== value) {
        throw invalidArgument(`${field}: "${PARAM_TYPE}" and "${PARAM_TYPE_ALIAS}" name different volume types`);
      }
      out.volumeType = value;
    } else if (key === PARAM_AVAILABILITY) {
      if (value !== '') out.availability = value;
    } else if (VOLUME_METADATA_PARAMS.includes(key)) {
      out.metadata[key] = value;
    } else {
      throw invalidArgument(`${field}: unknown parameter ${JSON.stringify(key)} (known: ${knownVolumeKeys().join(', ')})`);
    }
  }
  return out;
}

/** VolumeSnapshotClass parameters: what kind of Cinder copy a VolumeSnapshot is. */
export interface SnapshotParameters {
  /** `snapshot` (default): a Cinder snapshot on the volume's backend; `backup`: a Cinder backup. */
  kind: 'snapshot' | 'backup';
  /** Backups only: from the volume's last backup when it has one (parameter `incremental`). */
  incremental: boolean;
  metadata: Record<string, string>;
}

export const PARAM_SNAPSHOT_TYPE = 'type';
export const PARAM_INCREMENTAL = 'incremental';

export function parseSnapshotParameters(params: Record<string, string> | undefined, field = 'parameters'): SnapshotParameters {
  const out: SnapshotParameters = { kind: 'snapshot', incremental: false, metadata: {} };
  let incremental: string | undefined;
  for (const [key, value] of Object.entries(params ?? {})) {
    checkLength(key, value, field);
    if (key === PARAM_SNAPSHOT_TYPE) {
      if (value !== '' && value !== 'snapshot' && value !== 'backup') {
        throw invalidArgument(`${field}.${PARAM_SNAPSHOT_TYPE} must be "snapshot" or "backup", not ${JSON.stringify(value)}`);
      }
      if (value === 'backup') out.kind = 'backup';
    } else if (key === PARAM_INCREMENTAL) {
      if (value !== 'true' && value !== 'false') throw invalidArgument(`${field}.${PARAM_INCREMENTAL} must be "true" or "false", not ${JSON.stringify(value)}`);
      incremental = value;
    } else if (SNAPSHOT_METADATA_PARAMS.includes(key)) {
      out.metadata[key] = value;
    } else {
      throw invalidArgument(`${field}: unknown parameter ${JSON.stringify(key)} (known: ${[PARAM_SNAPSHOT_TYPE, PARAM_INCREMENTAL, ...SNAPSHOT_METADATA_PARAMS].join(', ')})`);
    }
  }
  // An incremental Cinder snapshot does not exist: saying so beats ignoring the key.
  if (incremental !== undefined && out.kind !== 'backup') throw invalidArgument(`${field}.${PARAM_INCREMENTAL} applies only with ${PARAM_SNAPSHOT_TYPE}: backup`);
  out.incremental = incremental === 'true';
  return out;
}

/** What a VolumeAttributesClass may change on a volume (ControllerModifyVolume, CreateVolume). */
export interface MutableParameters {
  /** Cinder volume type name or id. */
  volumeType?: string;
  /** Whether Cinder may move a detached volume to another backend to change its type. */
  migrationPolicy: 'never' | 'on-demand';
}

export const PARAM_MIGRATION_POLICY = 'migrationPolicy';

/**
 * Unknown keys, and values that cannot be, are INVALID_ARGUMENT naming them: Kubernetes then
 * marks the VolumeAttributesClass infeasible for the volume instead of retrying it forever.
 */
export function parseMutableParameters(params: Record<string, string> | undefined, field = 'mutable_parameters'): MutableParameters {
  const out: MutableParameters = { migrationPolicy: 'never' };
  for (const [key, value] of Object.entries(params ?? {})) {
    checkLength(key, value, field);
    if (key === PARAM_TYPE) {
      if (value === '') throw invalidArgument(`${field}.${PARAM_TYPE} must name a Cinder volume type`);
      out.volumeType = value;
    } else if (key === PARAM_MIGRATION_POLICY) {
      if (value !== 'never' && value !== 'on-demand') throw invalidArgument(`${field}.${PARAM_MIGRATION_POLICY} must be "never" or "on-demand", not ${JSON.stringify(value)}`);
      out.migrationPolicy = value;
    } else {
      throw invalidArgument(`${field}: ${JSON.stringify(key)} cannot be changed by this driver (it can change: ${PARAM_TYPE}, ${PARAM_MIGRATION_POLICY})`);
    }
  }
  return out;
}

function knownVolumeKeys(): string[] {
  return [PARAM_TYPE, PARAM_TYPE_ALIAS, PARAM_AVAILABILITY, ...VOLUME_METADATA_PARAMS];
}

function checkLength(key: string, value: string, field: string): void {
  if (value.length > CINDER_META_MAX) {
    throw invalidArgument(`${field}.${key} is longer than ${CINDER_META_MAX} characters`);
  }
}
