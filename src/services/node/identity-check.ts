import type { ConnectionData } from '../../brick/connection-data.js';
import type { AttachedDevice } from '../../brick/connector.js';
import { failedPrecondition } from '../../util/errors.js';

/**
 * Before anything is formatted or mounted, the device must be shown to be this volume
 * (CVE-2023-2088 — after a severed connection and LUN reuse a host saw another
 * tenant's volume). What can be checked depends on the backend:
 * - local: the device path (file or device) carries the volume id — the emulator and the tests
 *   name it so;
 * - iSCSI: backends that name a target per volume (LIO/tgt: `iqn…:volume-<id>`) put the id in
 *   the IQN; some put it in the WWN. When they do, it must be ours. A target whose IQN names a
 *   different volume id is refused. Shared targets, and backends that embed nothing, cannot be
 *   checked by name: the WWN seen at the first stage is then what a retry must match;
 * - RBD: the image is found by pool/image name through `rbd showmapped`; Cinder names images
 *   `volume-<id>`, checked the same way.
 * Any mismatch is FAILED_PRECONDITION: a retry cannot fix it, an operator must look.
 *
 * Only a dashed UUID in a name is read as a volume id: Cinder names targets and images
 * `volume-<uuid>` with dashes, while arrays put other 32-hex serials in theirs (NetApp ONTAP:
 * `iqn.1992-08.com.netapp:sn.<32 hex>:vs.3`) that name no volume at all.
 */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** Lower case, and without dashes: WWNs carry ids as bare hex. */
function squash(s: string): string {
  return s.toLowerCase().replace(/-/g, '');
}

function carries(text: string, volumeId: string): boolean {
  return text.toLowerCase().includes(volumeId.toLowerCase()) || squash(text).includes(squash(volumeId));
}

export function verifyIdentity(
  volumeId: string,
  conn: ConnectionData,
  device: AttachedDevice,
  previousWwn?: string,
): void {
  if (previousWwn && device.wwn && squash(previousWwn) !== squash(device.wwn)) {
    throw failedPrecondition(
      `device ${device.path} has WWN ${device.wwn}, but volume ${volumeId} was staged with WWN ${previousWwn}; refusing to use it`,
    );
  }
  switch (conn.type) {
    case 'local':
      if (!carries(conn.devicePath, volumeId)) {
        throw failedPrecondition(`local device ${conn.devicePath} does not carry the volume id ${volumeId}; refusing to use it`);
      }
      return;
    case 'rbd':
      checkNamed(`rbd image ${conn.pool}/${conn.image}`, conn.image, volumeId);
      return;
    case 'iscsi': {
      const names = conn.sharedTargets ? [] : conn.targets.map((t) => t.iqn);
      const all = [...names, ...(device.wwn ? [device.wwn] : [])];
      if (all.some((n) => carries(n, volumeId))) return;
      for (const iqn of names) checkNamed(`iSCSI target ${iqn}`, iqn, volumeId);
      return;
    }
  }
}

/** A name that embeds some volume id must embed this one. */
function checkNamed(what: string, name: string, volumeId: string): void {
  if (carries(name, volumeId)) return;
  const other = UUID.exec(name)?.[0];
  if (other) throw failedPrecondition(`${what} names volume ${other}, not ${volumeId}; refusing to use the device`);
}
