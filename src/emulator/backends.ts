import { randomSecret } from './ids.js';
import type { VolumeRecord, VolumeTypeRecord } from './state.js';
import { specIsTrue } from './volume-types.js';

/**
 * The emulated storage backends and the connection_info each returns. Cinder's attachments API
 * answers it FLAT: the driver's `data` merged with driver_volume_type, attachment_id, qos_specs,
 * access_mode, cacheable and encrypted (reference/cinder-api.md). The iSCSI shape follows
 * LVM+tgt / csi_test_driver.py; RBD follows Cinder's RBD driver.
 */
export type BackendName = 'local' | 'iscsi' | 'rbd';

export interface BackendSettings {
  iscsiPortals: string[];
  rbd: { pool: string; hosts: string[]; ports: string[]; secretUuid: string };
}

export function backendOf(type: VolumeTypeRecord): BackendName {
  const name = type.extraSpecs.volume_backend_name;
  if (name === 'iscsi' || name === 'rbd') return name;
  return 'local';
}

/** Cinder's os-vol-host-attr:host: host@backend#pool. */
export function hostOf(backend: BackendName): string {
  return `cinder-emulator@${backend}#${backend}`;
}

function iscsiData(
  volume: VolumeRecord,
  type: VolumeTypeRecord,
  connector: Record<string, unknown>,
  s: BackendSettings,
): Record<string, unknown> {
  const iqn = `iqn.2010-10.org.openstack:volume-${volume.id}`;
  const portal = s.iscsiPortals[0] ?? '127.0.0.1:3260';
  const data: Record<string, unknown> = {
    target_discovered: false,
    target_portal: portal,
    target_iqn: iqn,
    target_lun: 1,
    volume_id: volume.id,
    auth_method: 'CHAP',
    // Like tgt's per-export CHAP: fresh credentials every time the volume is exported.
    auth_username: randomSecret(20),
    auth_password: randomSecret(16),
  };
  if (connector.multipath === true) {
    data.target_portals = [...s.iscsiPortals];
    data.target_iqns = s.iscsiPortals.map(() => iqn);
    data.target_luns = s.iscsiPortals.map(() => 1);
  }
  if (specIsTrue(type.extraSpecs['emulator:discovery_chap'])) {
    data.discovery_auth_method = 'CHAP';
    data.discovery_auth_username = randomSecret(20);
    data.discovery_auth_password = randomSecret(16);
  }
  return data;
}

function rbdData(volume: VolumeRecord, s: BackendSettings): Record<string, unknown> {
  return {
    name: `${s.rbd.pool}/volume-${volume.id}`,
    hosts: [...s.rbd.hosts],
    ports: [...s.rbd.ports],
    cluster_name: 'ceph',
    auth_enabled: true,
    auth_username: 'cinder',
    secret_type: 'ceph',
    secret_uuid: s.rbd.secretUuid,
    volume_id: volume.id,
    discard: true,
  };
}

export function connectionInfo(
  volume: VolumeRecord,
  type: VolumeTypeRecord,
  attachmentId: string,
  connector: Record<string, unknown>,
  s: BackendSettings,
  /** Whether the request is an admin's (see applyConnector in attachments.ts). */
  admin = true,
): Record<string, unknown> {
  const backend = backendOf(type);
  let data: Record<string, unknown>;
  if (backend === 'iscsi') data = iscsiData(volume, type, connector, s);
  else if (backend === 'rbd') data = rbdData(volume, s);
  else data = { device_path: volume.filePath ?? '', volume_id: volume.id };
  return {
    ...data,
    encrypted: specIsTrue(type.extraSpecs['emulator:encrypted']),
    qos_specs: null,
    // Cinder keeps "rw" here even for a read-only (mode "ro", 3.54) attachment; only the
    // volume's read-only flag makes it "ro" (volume manager, _connection_create), and only in
    // an admin's request (see applyConnector).
    access_mode: volume.readonly && admin ? 'ro' : 'rw',
    cacheable: false,
    driver_volume_type: backend,
    attachment_id: attachmentId,
  };
}
