import { describe, expect, it } from 'vitest';
import { FakeIscsiHost, type ArrayTarget } from '../../../test/fakes/iscsi-host.js';
import { capturingLogger } from '../../../test/helpers/log-capture.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import type { IscsiConnection } from '../connection-data.js';
import { IscsiConnector } from './connector.js';

const IQN = 'iqn.2010-10.org.openstack:volume-5b0c2c3e-1d4e-4a6b-9c1d-2f3e4a5b6c7d';
const P1 = '10.0.0.1:3260';
const P2 = '10.0.0.2:3260';
const P3 = '10.0.0.3:3260';
const WWID = 'naa.6001405b0c2c3e1d4e4a6b9c1d2f3e4a';
const SCSI_ID = '36001405b0c2c3e1d4e4a6b9c1d2f3e4a';
const CHAP = { method: 'CHAP' as const, username: 'chapuser', password: 'Chap-Pa55word-91f3e' };
const IFACE = 'cinder-metal-csi';

function conn(over: Partial<IscsiConnection> = {}): IscsiConnection {
  return { type: 'iscsi', targets: [{ portal: P1, iqn: IQN, lun: 1 }], multipath: false, accessMode: 'rw', ...over };
}

function setup(target: Partial<ArrayTarget> = {}, opts: { deviceTimeoutMs?: number; multipathTimeoutMs?: number } = {}) {
  const host = new FakeIscsiHost();
  host.addTarget({ iqn: IQN, portals: [P1, P2], luns: new Map([[1, { wwid: WWID }]]), ...target });
  const logs = capturingLogger('debug');
  const connector = new IscsiConnector({
    exec: host,
    fs: host.fs,
    log: logs.log,
    locks: new KeyedMutex(),
    deviceTimeoutMs: opts.deviceTimeoutMs ?? 3_000,
    multipathTimeoutMs: opts.multipathTimeoutMs ?? 1_000,
    pollMs: 10,
    retryDelayMs: 5,
  });
  return { host, connector, logs };
}

const node = (portal: string, ...rest: string[]) => `iscsiadm -m node -T ${IQN} -p ${portal} -I ${IFACE}${rest.length ? ` ${rest.join(' ')}` : ''}`;

describe('IscsiConnector.connect, single path, on a host that behaves like the real one', () => {
  it('first login to a target: record on our iface, login, scan "- - 1" (no target yet), disk found through the session in sysfs', async () => {
    const t = setup({ chap: { username: CHAP.username, password: CHAP.password } });
    const dev = await t.connector.connect(conn({ auth: CHAP }));
    expect(dev).toEqual({ path: '/dev/sda', wwn: SCSI_ID, multipath: false });
    expect(t.host.calls).toEqual([
      `iscsiadm -m iface -I ${IFACE}`,
      `iscsiadm -m iface -I ${IFACE} --op new`,
      `iscsiadm -m iface -I ${IFACE} --op update -n iface.transport_name -v tcp`,
      node(P1),
      node(P1, '--op new'),
      node(P1, '--op update -n node.startup -v manual -n node.session.initial_login_retry_max -v 4 -n node.session.auth.authmethod -v CHAP -n node.session.auth.username -v chapuser -n node.session.auth.password -v *** -n node.session.scan -v manual'),
      node(P1, '--login'),
    ]);
    // The session had no SCSI target before our scan: the wildcard form is the only one that works.
    expect(t.host.fs.writes).toEqual([{ path: '/sys/class/scsi_host/host2/scan', data: '- - 1' }]);
    expect(t.logs.text()).not.toContain(CHAP.password);
  });

  it('an open-iscsi without node.session.scan: the record is set without it, CHAP included, and the LUN still found', async () => {
    const t = setup({ chap: { username: CHAP.username, password: CHAP.password } });
    t.host.noManualScan = true;
    const dev = await t.connector.connect(conn({ auth: CHAP }));
    expect(dev.path).toBe('/dev/sda');
    const rec = t.host.records.get(`${IQN}|${P1}|${IFACE}`);
    expect(rec?.['node.session.auth.username']).toBe(CHAP.username);
    expect(rec?.['node.session.scan']).toBeUndefined();
    expect(t.logs.text()).not.toContain(CHAP.password);
  });

  it('rescans with growing intervals while the array is slow to export the LUN', async () => {
    const t = setup({ luns: new Map([[1, { wwid: WWID, visibleAfterScans: 2 }]]) });
    const started = Date.now();
    const dev = await t.connector.connect(conn());
    expect(dev.path).toBe('/dev/sda');
    expect(t.host.fs.writes.map((w) => w.data)).toEqual(['- - 1', '- - 1']);
    // The first rescan comes about 2 s after the first scan, not in a tight loop.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it('reuses a session another LUN of the target holds: no login, and "0 0 <lun>" now that the target exists', async () => {
    const t = setup({ luns: new Map([[1, { wwid: WWID }], [7, { wwid: 'naa.6001405aaaaaaaaaaaaaaaaaaaaaaaaaaa' }]]) });
    await t.connector.connect(conn({ targets: [{ portal: P1, iqn: IQN, lun: 7 }] }));
    t.host.calls.length = 0;
    t.host.fs.writes.length = 0;
    const dev = await t.connector.connect(conn());
    expect(dev.path).toBe('/dev/sdb');
    expect(t.host.calls.some((c) => c.includes('--login'))).toBe(false);
    expect(t.host.fs.writes).toEqual([{ path: '/sys/class/scsi_host/host2/scan', data: '0 0 1' }]);
  });

  it('scans the kernel LUN of the array\'s addressing mode (SAM3-flat LUN 1 is 16385)', async () => {
    const t = setup({ luns: new Map([[16385, { wwid: WWID }]]) });
    const dev = await t.connector.connect(conn({ addressingMode: 'SAM3-flat' }));
    expect(dev.path).toBe('/dev/sda');
    expect(t.host.fs.writes[0]?.data).toBe('- - 16385');
  });

  it('tries the next portal when one fails, and cleans up the failed one', async () => {
    const t = setup();
    t.host.unreachable.add(P1);
    const dev = await t.connector.connect(conn({ targets: [{ portal: P1, iqn: IQN, lun: 1 }, { portal: P2, iqn: IQN, lun: 1 }] }));
    expect(dev.path).toBe('/dev/sda');
    expect(t.host.sessionOf(IQN, P2)).toBeDefined();
    expect([...t.host.records.keys()]).toEqual([`${IQN}|${P2}|${IFACE}`]);
  });

  it('a failed connect leaves no session, record or disk behind — unless the caller gave up', async () => {
    const t = setup({ luns: new Map() }, { deviceTimeoutMs: 300 });
    await expect(t.connector.connect(conn())).rejects.toThrow(/LUN 1 of .* to appear/);
    expect(t.host.sessions).toHaveLength(0);
    expect(t.host.records.size).toBe(0);

    const u = setup({ luns: new Map() }, { deviceTimeoutMs: 5_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(Object.assign(new Error('deadline'), { name: 'DeadlineExceeded' })), 200);
    await expect(u.connector.connect(conn(), { signal: ac.signal })).rejects.toThrow();
    // The retry will continue from here (kubelet keeps the volume "uncertain").
    expect(u.host.sessions).toHaveLength(1);
    expect(u.host.records.size).toBe(1);
  });

  it('refuses a CHAP connection without a password, before touching the host', async () => {
    const t = setup();
    await expect(t.connector.connect(conn({ auth: { ...CHAP, password: '' } }))).rejects.toThrow(/CHAP password is empty/);
    expect(t.host.calls).toEqual([]);
  });
});

describe('IscsiConnector.disconnect: devices only by their identity', () => {
  it('flush, delete, logout, delete the record — with the password blank, as the stage record keeps it', async () => {
    const t = setup({ chap: { username: CHAP.username, password: CHAP.password } });
    const dev = await t.connector.connect(conn({ auth: CHAP }));
    t.host.calls.length = 0;
    await t.connector.disconnect(conn({ auth: { ...CHAP, password: '' } }), dev);
    expect(t.host.calls).toEqual(['blockdev --flushbufs /dev/sda', node(P1, '--logout'), node(P1, '--op delete')]);
    expect(t.host.fs.has('/sys/block/sda')).toBe(false);
    expect(t.host.sessions).toHaveLength(0);
    expect(t.host.records.size).toBe(0);
  });

  it('after a reboot the recorded /dev/sda is another volume\'s disk: it is neither flushed nor deleted', async () => {
    const t = setup();
    // No session any more; sda now belongs to a volume staged after the reboot.
    t.host.strayDisk('sda', 'naa.600140599999999999999999999999999');
    t.host.records.set(`${IQN}|${P1}|${IFACE}`, {});
    await t.connector.disconnect(conn(), { path: '/dev/sda', wwn: SCSI_ID });
    expect(t.host.calls).toEqual([node(P1, '--op delete')]);
    expect(t.host.fs.has('/sys/block/sda')).toBe(true);
    expect(t.host.fs.writes).toEqual([]);
  });

  it('our LUN now shows another WWID (the array reused it): left alone, session kept', async () => {
    const t = setup();
    await t.connector.connect(conn());
    t.host.calls.length = 0;
    await t.connector.disconnect(conn(), { path: '/dev/sda', wwn: '36001405ffffffffffffffffffffffff' });
    expect(t.host.fs.has('/sys/block/sda')).toBe(true);
    expect(t.host.sessions).toHaveLength(1);
    expect(t.logs.text()).toContain('holds another volume now');
  });

  it('keeps the session while another volume\'s disk uses it, but not for tgt\'s LUN 0 controller', async () => {
    const t = setup({ luns: new Map([[1, { wwid: WWID }], [2, { wwid: 'naa.6001405bbbbbbbbbbbbbbbbbbbbbbbbbbb' }]]) });
    const a = await t.connector.connect(conn());
    await t.connector.connect(conn({ targets: [{ portal: P1, iqn: IQN, lun: 2 }] }));
    await t.connector.disconnect(conn(), a);
    expect(t.host.sessions).toHaveLength(1);
    expect(t.host.records.size).toBe(1);
    await t.connector.disconnect(conn({ targets: [{ portal: P1, iqn: IQN, lun: 2 }] }), undefined);
    expect(t.host.sessions).toHaveLength(0);

    // A scan of every LUN (an old open-iscsi without manual scan) brings LUN 0, a controller.
    const u = setup();
    u.host.records.set(`${IQN}|${P1}|${IFACE}`, {});
    const s = u.host;
    await s.run('iscsiadm', ['-m', 'node', '-T', IQN, '-p', P1, '-I', IFACE, '--login']);
    const dev = await u.connector.connect(conn());
    expect(u.host.fs.has('/sys/class/iscsi_host/host2/device/session1/target2:0:0/2:0:0:0/type')).toBe(true);
    await u.connector.disconnect(conn(), dev);
    expect(u.host.sessions).toHaveLength(0);
  });

  it('a flush that fails on a live path stops the disconnect; a dead path is dropped with a warning', async () => {
    const t = setup();
    const dev = await t.connector.connect(conn());
    t.host.failFlush.add('/dev/sda');
    await expect(t.connector.disconnect(conn(), dev)).rejects.toThrow(/could not flush \/dev\/sda/);
    expect(t.host.fs.has('/sys/block/sda')).toBe(true);
    // The path died (force detach on the array side): the kernel marks it offline.
    await t.host.fs.writeFile('/sys/block/sda/device/state', 'transport-offline\n');
    await t.connector.disconnect(conn(), dev);
    expect(t.host.fs.has('/sys/block/sda')).toBe(false);
    expect(t.logs.text()).toContain('the device is dead; removing it without a flush');
  });
});

describe('IscsiConnector multipath', () => {
  const mp = (over: Partial<IscsiConnection> = {}) =>
    conn({ multipath: true, targets: [{ portal: P1, iqn: IQN, lun: 1 }, { portal: P2, iqn: IQN, lun: 1 }], ...over });

  it('with find_multipaths strict: adds the WWID, hints the paths, returns the map over both', async () => {
    const t = setup();
    const dev = await t.connector.connect(mp());
    const map = t.host.mapOf(SCSI_ID);
    expect(dev).toEqual({ path: `/dev/${map?.dm}`, wwn: SCSI_ID, multipath: true });
    expect(t.host.calls).toContain(`multipath -a ${SCSI_ID}`);
    await waitUntil(() => map?.paths.size === 2);
    expect(await t.connector.findDevice(mp())).toEqual(dev);
  });

  it('one portal unreachable: the volume comes up on the other at once; the dead path is cleaned up when its login fails', async () => {
    const t = setup();
    t.host.unreachable.add(P2);
    t.host.loginFailMs = 1_500;
    const started = Date.now();
    const dev = await t.connector.connect(mp());
    expect(dev.multipath).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_400);
    expect(t.host.mapOf(SCSI_ID)?.paths.size).toBe(1);
    await waitUntil(() => !t.host.records.has(`${IQN}|${P2}|${IFACE}`), 5_000);
    expect(t.logs.text()).toContain('iscsi path did not come up');
  });

  it('multipathd not running: one path, with a warning', async () => {
    const t = setup();
    t.host.multipathd.running = false;
    const dev = await t.connector.connect(mp());
    expect(dev).toEqual({ path: '/dev/sda', wwn: SCSI_ID, multipath: false });
    expect(t.host.sessions).toHaveLength(1);
    expect(t.logs.text()).toContain('multipathd does not answer on this node; using one path');
  });

  it('no map forms (multipathd configured to ignore the array): falls back to one path with a warning', async () => {
    const t = setup();
    t.host.multipathd.ignore = true;
    const dev = await t.connector.connect(mp());
    expect(dev).toEqual({ path: '/dev/sda', wwn: SCSI_ID, multipath: false });
    expect(t.logs.text()).toContain('no multipath map formed');
  });

  it('discovery: one portal given, the others found by sendtargets (discovery CHAP in a record deleted at once, masked)', async () => {
    const t = setup();
    t.host.addTarget({ iqn: 'iqn.2010-10.org.openstack:volume-other', portals: [P1, P3], luns: new Map() });
    const secret = 'Disc0very-Secret-7aa1';
    const dev = await t.connector.connect(conn({ multipath: true, discovery: true, discoveryAuth: { method: 'CHAP', username: 'd', password: secret } }));
    expect(dev.multipath).toBe(true);
    await waitUntil(() => t.host.sessions.length === 2);
    expect(t.host.sessions.map((s) => s.portal).sort()).toEqual([P1, P2]);
    expect(t.host.calls.filter((c) => c.includes('discoverydb')).map((c) => c.split(' --op ')[1]?.split(' ')[0] ?? c.split(' ').at(-1))).toEqual(['update', 'nonpersistent', 'delete']);
    expect(t.host.calls.join('\n')).not.toContain(secret);
  });

  it('disconnect: flush the map, remove it (retrying while busy), drop and delete both paths, log out of both', async () => {
    const t = setup();
    const dev = await t.connector.connect(mp());
    await waitUntil(() => t.host.mapOf(SCSI_ID)?.paths.size === 2);
    t.host.mapBusy = 2;
    t.host.calls.length = 0;
    await t.connector.disconnect(mp(), dev);
    const calls = t.host.calls;
    expect(calls.filter((c) => c.startsWith('multipath -f'))).toHaveLength(3);
    expect(calls.indexOf(`blockdev --flushbufs ${dev.path}`)).toBeLessThan(calls.indexOf(`multipath -f ${SCSI_ID}`));
    expect(calls.filter((c) => c.startsWith('multipathd del path'))).toHaveLength(2);
    expect(t.host.multipathd.maps).toHaveLength(0);
    expect(t.host.sessions).toHaveLength(0);
    expect(t.host.records.size).toBe(0);
  });

  it('a map multipath -f cannot remove is removed with multipathd del map', async () => {
    const t = setup();
    const dev = await t.connector.connect(mp());
    t.host.mapBusy = 10;
    await t.connector.disconnect(mp(), dev);
    expect(t.host.calls).toContain(`multipathd del map ${SCSI_ID}`);
    expect(t.host.multipathd.maps).toHaveLength(0);
  });

  it('extend: rescans every path and resizes the map', async () => {
    const t = setup();
    const dev = await t.connector.connect(mp());
    await waitUntil(() => t.host.mapOf(SCSI_ID)?.paths.size === 2);
    const lun = t.host.targets.get(IQN)?.luns.get(1);
    if (lun) lun.sizeBytes = 2 << 30;
    expect(await t.connector.extend(mp(), dev)).toBe(2 << 30);
    expect(t.host.fs.writes.filter((w) => w.path.endsWith('/device/rescan'))).toHaveLength(2);
    expect(t.host.calls).toContain(`multipathd resize map ${SCSI_ID}`);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
