import { describe, expect, it } from 'vitest';
import type { ConnectionData } from '../../brick/connection-data.js';
import { DriverError, type ErrorKind } from '../../util/errors.js';
import { verifyIdentity } from './identity-check.js';

const ID = '0f9a4c1e-7b7e-4a3c-9f00-2b1c0d8e4f11';
const OTHER = '11111111-2222-4333-8444-555555555555';

const iscsi = (iqn: string, sharedTargets?: boolean): ConnectionData => ({
  type: 'iscsi',
  targets: [{ portal: '10.0.0.1:3260', iqn, lun: 0 }],
  multipath: false,
  accessMode: 'rw',
  ...(sharedTargets !== undefined ? { sharedTargets } : {}),
});

function outcome(fn: () => void): ErrorKind | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof DriverError) return err.kind;
    throw err;
  }
}

describe('verifyIdentity', () => {
  const cases: [string, ConnectionData, { path: string; wwn?: string }, string | undefined, ErrorKind | 'ok'][] = [
    ['local file named after the volume', { type: 'local', devicePath: `/var/lib/vols/volume-${ID}.img`, accessMode: 'rw' }, { path: '/dev/loop1' }, undefined, 'ok'],
    ['local file of another name', { type: 'local', devicePath: '/var/lib/vols/other.img', accessMode: 'rw' }, { path: '/dev/loop1' }, undefined, 'precondition'],
    ['LIO target naming this volume', iscsi(`iqn.2010-10.org.openstack:volume-${ID}`), { path: '/dev/sdb' }, undefined, 'ok'],
    ['LIO target naming another volume', iscsi(`iqn.2010-10.org.openstack:volume-${OTHER}`), { path: '/dev/sdb' }, undefined, 'precondition'],
    ['upper-case id in the IQN', iscsi(`iqn.2010-10.org.openstack:volume-${ID.toUpperCase()}`), { path: '/dev/sdb' }, undefined, 'ok'],
    ['SAN target without any id, no WWN', iscsi('iqn.1992-04.com.emc:cx.apm00123'), { path: '/dev/sdb' }, undefined, 'ok'],
    ['SAN target, WWN carrying the id without dashes', iscsi('iqn.1992-04.com.emc:cx.x'), { path: '/dev/sdb', wwn: `36${ID.replace(/-/g, '')}` }, undefined, 'ok'],
    // ONTAP names its shared targets by the array's 32-hex serial: no volume id in there.
    ['ONTAP shared-target IQN with a 32-hex serial', iscsi('iqn.1992-08.com.netapp:sn.8d4b3e7a2f9c4e1b9a6d5c3b2a1f0e9d:vs.3'), { path: '/dev/sdb' }, undefined, 'ok'],
    ['ONTAP IQN, flagged shared by Cinder', iscsi('iqn.1992-08.com.netapp:sn.8d4b3e7a2f9c4e1b9a6d5c3b2a1f0e9d:vs.3', true), { path: '/dev/sdb' }, undefined, 'ok'],
    ['shared target naming another volume: not checked by name', iscsi(`iqn.2010-10.org.openstack:volume-${OTHER}`, true), { path: '/dev/sdb' }, undefined, 'ok'],
    ['WWN differs from the one recorded at the first stage', iscsi('iqn.1992-04.com.emc:cx.x'), { path: '/dev/sdc', wwn: '36001405aaaa' }, '36001405bbbb', 'precondition'],
    ['same WWN as recorded', iscsi('iqn.1992-04.com.emc:cx.x'), { path: '/dev/sdc', wwn: '36001405AAAA' }, '36001405aaaa', 'ok'],
    [
      'rbd image of this volume',
      { type: 'rbd', pool: 'volumes', image: `volume-${ID}`, monitors: ['10.0.0.2:6789'], user: 'cinder', clusterName: 'ceph', accessMode: 'rw' },
      { path: '/dev/rbd0' },
      undefined,
      'ok',
    ],
    [
      'rbd image of another volume',
      { type: 'rbd', pool: 'volumes', image: `volume-${OTHER}`, monitors: ['10.0.0.2:6789'], user: 'cinder', clusterName: 'ceph', accessMode: 'rw' },
      { path: '/dev/rbd0' },
      undefined,
      'precondition',
    ],
  ];
  it.each(cases)('%s → %s', (_n, conn, device, previous, want) => {
    expect(outcome(() => verifyIdentity(ID, conn, device, previous))).toBe(want);
  });
});
