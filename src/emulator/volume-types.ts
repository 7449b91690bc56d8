import { stableUuid } from './ids.js';
import type { Store, VolumeTypeRecord } from './state.js';
import type { EmulatorVolumeType } from './types.js';

/**
 * The built-in volume types. Ids are derived from the names so they stay the same across restarts
 * (a StorageClass may name a type by id). `volume_backend_name` picks the emulated backend
 * (backends.ts); `__DEFAULT__` (Cinder's default type) uses the local backend.
 */
export const DEFAULT_TYPE_NAME = '__DEFAULT__';

export const BUILTIN_TYPES: EmulatorVolumeType[] = [
  { name: DEFAULT_TYPE_NAME, description: 'Default Volume Type', extraSpecs: {} },
  { name: 'local', description: 'Sparse files under the state dir (attach as loop devices)', extraSpecs: { volume_backend_name: 'local' } },
  { name: 'iscsi', description: 'iSCSI targets like LVM+tgt, with CHAP', extraSpecs: { volume_backend_name: 'iscsi' } },
  {
    name: 'iscsi-discovery-chap',
    description: 'iSCSI with CHAP for discovery too',
    extraSpecs: { volume_backend_name: 'iscsi', 'emulator:discovery_chap': '<is> True' },
  },
  { name: 'rbd', description: 'Ceph RBD images', extraSpecs: { volume_backend_name: 'rbd' } },
  {
    name: 'iscsi-luks',
    description: 'iSCSI with a LUKS encryption spec (volumes and connections say encrypted)',
    extraSpecs: { volume_backend_name: 'iscsi', 'emulator:encrypted': '<is> True' },
  },
  {
    name: 'multiattach',
    description: 'Local backend, several attachments allowed',
    extraSpecs: { volume_backend_name: 'local', multiattach: '<is> True' },
  },
];

/** Extra specs a non-admin may see (Cinder's user-visible extra specs). */
export const USER_VISIBLE_EXTRA_SPECS = ['multiattach', 'RESKEY:availability_zones', 'replication_enabled'];

export function installTypes(store: Store, extra: EmulatorVolumeType[] = []): void {
  for (const t of [...BUILTIN_TYPES, ...extra]) {
    const rec: VolumeTypeRecord = {
      id: stableUuid(`volume-type:${t.name}`),
      name: t.name,
      description: t.description ?? null,
      extraSpecs: { ...(t.extraSpecs ?? {}) },
    };
    store.types.set(rec.id, rec);
  }
}

export function defaultType(store: Store): VolumeTypeRecord {
  const t = store.typeByNameOrId(DEFAULT_TYPE_NAME);
  if (!t) throw new Error('the default volume type is missing');
  return t;
}

/** Cinder's "<is> True" boolean extra-spec syntax (plain "True" accepted too). */
export function specIsTrue(value: string | undefined): boolean {
  if (value === undefined) return false;
  return /^(<is>\s*)?true$/i.test(value.trim());
}
