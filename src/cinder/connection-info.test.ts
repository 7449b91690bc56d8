import { describe, expect, it } from 'vitest';

import { ConnectionInfoError, normalizePortal, parseConnectionInfo } from './connection-info.js';

const SECRET = 'Sup3r-S3cret-CHAP-pw';

/** The flat shape Cinder's attachments API returned for the LVM+tgt-like file backend. */
const flatIscsi = {
  target_discovered: false,
  target_portal: '127.0.0.1:3260',
  target_iqn: 'iqn.2010-10.org.openstack:volume-0f5b7e38-9c2c-4b7a-8a53-3c1f5c6f4a11',
  target_lun: 1,
  volume_id: '0f5b7e38-9c2c-4b7a-8a53-3c1f5c6f4a11',
  auth_method: 'CHAP',
  auth_username: 'fZqg8bT3',
  auth_password: SECRET,
  encrypted: false,
  qos_specs: null,
  access_mode: 'rw',
  cacheable: false,
  driver_volume_type: 'iscsi',
  attachment_id: '6b1f2c1e-1111-2222-3333-444455556666',
};

describe('parseConnectionInfo: iscsi', () => {
  it('parses the flat single-path shape with CHAP', () => {
    expect(parseConnectionInfo(flatIscsi)).toEqual({
      type: 'iscsi',
      targets: [{ portal: '127.0.0.1:3260', iqn: flatIscsi.target_iqn, lun: 1 }],
      multipath: false,
      accessMode: 'rw',
      auth: { method: 'CHAP', username: 'fZqg8bT3', password: SECRET },
    });
  });

  it('parses the legacy {driver_volume_type, data} shape the same way', () => {
    const { driver_volume_type, ...data } = flatIscsi;
    expect(parseConnectionInfo({ driver_volume_type, data })).toEqual(parseConnectionInfo(flatIscsi));
  });

  it('parses multipath lists (portals, iqns, luns) and discovery CHAP', () => {
    const ci = {
      driver_volume_type: 'iscsi',
      data: {
        target_portal: '10.0.0.1:3260',
        target_iqn: 'iqn.2001-05.com.example:vol-a',
        target_lun: 3,
        target_portals: ['10.0.0.1:3260', '10.0.1.1:3260', '[fd00::5]:3260'],
        target_iqns: ['iqn.2001-05.com.example:vol-a', 'iqn.2001-05.com.example:vol-b', 'iqn.2001-05.com.example:vol-c'],
        target_luns: [3, 3, '3'],
        discovery_auth_method: 'CHAP',
        discovery_auth_username: 'disc',
        discovery_auth_password: 'disc-pw-123',
        access_mode: 'ro',
        discard: true,
      },
    };
    const got = parseConnectionInfo(ci);
    expect(got).toEqual({
      type: 'iscsi',
      targets: [
        { portal: '10.0.0.1:3260', iqn: 'iqn.2001-05.com.example:vol-a', lun: 3 },
        { portal: '10.0.1.1:3260', iqn: 'iqn.2001-05.com.example:vol-b', lun: 3 },
        { portal: '[fd00::5]:3260', iqn: 'iqn.2001-05.com.example:vol-c', lun: 3 },
      ],
      multipath: true,
      accessMode: 'ro',
      discoveryAuth: { method: 'CHAP', username: 'disc', password: 'disc-pw-123' },
      discard: true,
    });
  });

  it('uses the single iqn/lun for every portal when only target_portals is a list', () => {
    const got = parseConnectionInfo({
      driver_volume_type: 'iscsi',
      target_portals: ['10.0.0.1', '10.0.0.2:3261'],
      target_iqn: 'iqn.2001-05.com.example:v',
      target_lun: 0,
    });
    expect(got.type === 'iscsi' && got.targets).toEqual([
      { portal: '10.0.0.1:3260', iqn: 'iqn.2001-05.com.example:v', lun: 0 },
      { portal: '10.0.0.2:3261', iqn: 'iqn.2001-05.com.example:v', lun: 0 },
    ]);
  });

  it.each([
    ['no portal', { target_iqn: 'iqn.2001-05.com.example:v', target_lun: 0 }, /target_portal is missing/],
    ['no iqn', { target_portal: '1.2.3.4:3260', target_lun: 0 }, /target_iqn is missing/],
    ['no lun', { target_portal: '1.2.3.4:3260', target_iqn: 'iqn.2001-05.com.example:v' }, /target_lun is missing/],
    ['bad lun', { target_portal: '1.2.3.4:3260', target_iqn: 'iqn.2001-05.com.example:v', target_lun: -1 }, /target_lun must be a non-negative integer/],
    ['bad iqn', { target_portal: '1.2.3.4:3260', target_iqn: 'volume-1', target_lun: 0 }, /target_iqn is not an iSCSI qualified name/],
    ['bad portal', { target_portal: 'a b:c', target_iqn: 'iqn.2001-05.com.example:v', target_lun: 0 }, /target_portal .* is not host:port/],
    ['bad port', { target_portal: '1.2.3.4:99999', target_iqn: 'iqn.2001-05.com.example:v', target_lun: 0 }, /invalid port/],
    [
      'list lengths differ',
      { target_portals: ['1.2.3.4:3260', '1.2.3.5:3260'], target_iqns: ['iqn.2001-05.com.example:v'], target_lun: 0 },
      /target_iqns and target_portals differ/,
    ],
    [
      'CHAP without password',
      { target_portal: '1.2.3.4:3260', target_iqn: 'iqn.2001-05.com.example:v', target_lun: 0, auth_method: 'CHAP', auth_username: 'u' },
      /auth_password is missing/,
    ],
    [
      'unknown auth method',
      { target_portal: '1.2.3.4:3260', target_iqn: 'iqn.2001-05.com.example:v', target_lun: 0, auth_method: 'kerberos' },
      /auth_method is not supported/,
    ],
    ['bad access mode', { target_portal: '1.2.3.4:3260', target_iqn: 'iqn.2001-05.com.example:v', target_lun: 0, access_mode: 'rwx' }, /access_mode must be rw or ro/],
  ])('rejects %s', (_n, data, re) => {
    expect(() => parseConnectionInfo({ driver_volume_type: 'iscsi', ...data })).toThrow(re);
  });

  it('follows the node: multipath only when its connector asked, discovery when the backend gave no path lists', () => {
    const lists = { ...flatIscsi, target_portals: ['10.0.0.1:3260', '10.0.0.2:3260'], target_iqns: [flatIscsi.target_iqn, flatIscsi.target_iqn], target_luns: [1, 1] };
    // Asked for multipath, two paths listed: both used, nothing to discover.
    expect(parseConnectionInfo(lists, { multipath: true })).toMatchObject({ multipath: true, targets: [{ portal: '10.0.0.1:3260' }, { portal: '10.0.0.2:3260' }] });
    expect(parseConnectionInfo(lists, { multipath: true })).not.toHaveProperty('discovery');
    // Not asked for: the listed portals are alternatives for one path.
    expect(parseConnectionInfo(lists, { multipath: false })).toMatchObject({ multipath: false });
    // Asked for, one listed path: still multipath (more paths may join), no discovery.
    const one = { ...flatIscsi, target_portals: ['10.0.0.1:3260'], target_iqns: [flatIscsi.target_iqn], target_luns: [1] };
    expect(parseConnectionInfo(one, { multipath: true })).toMatchObject({ multipath: true, targets: [{ portal: '10.0.0.1:3260' }] });
    expect(parseConnectionInfo(one, { multipath: true })).not.toHaveProperty('discovery');
    // Asked for, only target_portal: the other paths are found by sendtargets on it.
    expect(parseConnectionInfo(flatIscsi, { multipath: true })).toMatchObject({ multipath: true, discovery: true });
  });

  it('reads addressing_mode and refuses one it does not know', () => {
    expect(parseConnectionInfo({ ...flatIscsi, addressing_mode: 'SAM3-flat' })).toMatchObject({ addressingMode: 'SAM3-flat' });
    expect(parseConnectionInfo({ ...flatIscsi, addressing_mode: 'sam2' })).toMatchObject({ addressingMode: 'SAM2' });
    expect(parseConnectionInfo(flatIscsi)).not.toHaveProperty('addressingMode');
    expect(() => parseConnectionInfo({ ...flatIscsi, addressing_mode: 'SAM9' })).toThrow(/addressing_mode "SAM9" is not supported/);
  });

  it('never echoes a CHAP password in an error', () => {
    const cases = [
      { ...flatIscsi, target_lun: 'x' },
      { ...flatIscsi, target_portal: 'no good' },
      { ...flatIscsi, auth_method: SECRET },
      { ...flatIscsi, auth_username: undefined },
      { ...flatIscsi, discovery_auth_method: 'CHAP', discovery_auth_username: 'x', discovery_auth_password: 42 },
    ];
    for (const c of cases) {
      let msg = '';
      try {
        parseConnectionInfo(c);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg).not.toBe('');
      expect(msg).not.toContain(SECRET);
    }
  });
});

describe('parseConnectionInfo: rbd', () => {
  const rbd = {
    driver_volume_type: 'rbd',
    data: {
      name: 'volumes/volume-7c1e0e7e-2d7c-4f7e-9b55-1c2b3d4e5f60',
      hosts: ['192.168.10.11', '192.168.10.12', 'fd00::13'],
      ports: ['6789', '6789', 3300],
      cluster_name: 'ceph',
      auth_enabled: true,
      auth_username: 'cinder',
      secret_type: 'ceph',
      secret_uuid: '457eb676-33da-42ec-9a8c-9293d545c337',
      volume_id: '7c1e0e7e-2d7c-4f7e-9b55-1c2b3d4e5f60',
      discard: true,
      keyring: 'AQB-not-a-real-key==',
    },
  };

  it('parses pool/image, monitors and user', () => {
    expect(parseConnectionInfo(rbd)).toEqual({
      type: 'rbd',
      pool: 'volumes',
      image: 'volume-7c1e0e7e-2d7c-4f7e-9b55-1c2b3d4e5f60',
      monitors: ['192.168.10.11:6789', '192.168.10.12:6789', '[fd00::13]:3300'],
      user: 'cinder',
      clusterName: 'ceph',
      accessMode: 'rw',
      discard: true,
    });
  });

  it('strips a client. prefix and defaults the cluster name', () => {
    const got = parseConnectionInfo({ driver_volume_type: 'rbd', name: 'p/i', hosts: ['m1'], ports: ['6789'], auth_username: 'client.k8s' });
    expect(got).toMatchObject({ user: 'k8s', clusterName: 'ceph', monitors: ['m1:6789'] });
  });

  it.each([
    ['name without pool', { name: 'image', hosts: ['m'], ports: ['1'], auth_username: 'u' }, /not pool\/image/],
    ['no hosts', { name: 'p/i', hosts: [], ports: [], auth_username: 'u' }, /hosts is missing/],
    ['ports mismatch', { name: 'p/i', hosts: ['a', 'b'], ports: ['1'], auth_username: 'u' }, /hosts and ports differ/],
    ['no user with auth', { name: 'p/i', hosts: ['a'], ports: ['1'] }, /auth_username is missing/],
  ])('rejects %s', (_n, data, re) => expect(() => parseConnectionInfo({ driver_volume_type: 'rbd', data })).toThrow(re));
});

describe('parseConnectionInfo: local and others', () => {
  it('parses local', () => {
    expect(parseConnectionInfo({ driver_volume_type: 'local', device_path: '/var/lib/cinder/v1.img', access_mode: 'rw' })).toEqual({
      type: 'local',
      devicePath: '/var/lib/cinder/v1.img',
      accessMode: 'rw',
    });
    expect(() => parseConnectionInfo({ driver_volume_type: 'local', device_path: 'relative' })).toThrow(/absolute/);
    expect(() => parseConnectionInfo({ driver_volume_type: 'local' })).toThrow(/device_path is missing/);
  });

  it('names an unsupported driver_volume_type (FAILED_PRECONDITION)', () => {
    try {
      parseConnectionInfo({ driver_volume_type: 'fibre_channel', target_wwn: ['500a'] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConnectionInfoError);
      expect((e as ConnectionInfoError).kind).toBe('precondition');
      expect((e as Error).message).toMatch(/"fibre_channel" is not supported/);
    }
  });

  it.each([
    ['not an object', 'iscsi', /not an object/],
    ['empty', {}, /empty/],
    ['no type', { target_portal: '1.2.3.4:3260' }, /driver_volume_type is missing/],
  ])('rejects %s (INTERNAL)', (_n, input, re) => {
    try {
      parseConnectionInfo(input);
      expect.unreachable();
    } catch (e) {
      expect((e as ConnectionInfoError).kind).toBe('internal');
      expect((e as Error).message).toMatch(re);
    }
  });
});

describe('normalizePortal', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4:3260'],
    ['1.2.3.4:3261', '1.2.3.4:3261'],
    ['[::1]:3260', '[::1]:3260'],
    ['[::1]', '[::1]:3260'],
    ['fd00::1', '[fd00::1]:3260'],
    ['storage.example.com:3260', 'storage.example.com:3260'],
  ])('%s → %s', (p, want) => expect(normalizePortal(p, 3260, 'p')).toBe(want));
});
