import { describe, expect, it } from 'vitest';
import { FakeIscsiHost } from '../../../test/fakes/iscsi-host.js';
import { capturingLogger } from '../../../test/helpers/log-capture.js';
import { KeyedMutex } from '../../util/keyed-mutex.js';
import type { IscsiConnection } from '../connection-data.js';
import { IscsiConnector } from './connector.js';

const P1 = '10.0.0.1:3260';
const P2 = '10.0.0.2:3260';
const iqn = (n: string) => `iqn.2010-10.org.openstack:volume-${n}0000000-0000-4000-8000-000000000000`;
const ORPHAN = iqn('a');
const STAGED = iqn('b');
const FOREIGN = iqn('c');
const wwid = (n: string) => `naa.6001405${n.repeat(25)}`;

function setup() {
  const host = new FakeIscsiHost();
  for (const [name, w] of [[ORPHAN, 'a'], [STAGED, 'b'], [FOREIGN, 'c']] as const) {
    host.addTarget({ iqn: name, portals: [P1, P2], luns: new Map([[1, { wwid: wwid(w) }]]) });
  }
  host.fs.file('/proc/self/mountinfo', '22 1 0:21 / /proc rw - proc proc rw\n');
  const logs = capturingLogger('debug');
  const connector = new IscsiConnector({ exec: host, fs: host.fs, log: logs.log, locks: new KeyedMutex(), deviceTimeoutMs: 3_000, multipathTimeoutMs: 1_000, pollMs: 10, retryDelayMs: 5 });
  const conn = (target: string, multipath = false): IscsiConnection => ({
    type: 'iscsi',
    targets: (multipath ? [P1, P2] : [P1]).map((portal) => ({ portal, iqn: target, lun: 1 })),
    multipath,
    accessMode: 'rw',
  });
  return { host, connector, logs, conn };
}

/** A session some other tool made, on open-iscsi's default iface, with its disk scanned in. */
async function foreignLogin(host: FakeIscsiHost): Promise<void> {
  await host.run('iscsiadm', ['-m', 'node', '-T', FOREIGN, '-p', P1, '-I', 'default', '--op', 'new']);
  await host.run('iscsiadm', ['-m', 'node', '-T', FOREIGN, '-p', P1, '-I', 'default', '--login']);
  const s = host.sessionOf(FOREIGN, P1);
  if (!s) throw new Error('no foreign session');
  await host.fs.writeFile(`/sys/class/scsi_host/host${s.host}/scan`, '- - 1');
}

describe('IscsiConnector.sweepOrphans: what a crash or a reboot left, and only that', () => {
  it('logs out a session of ours that no stage record names and deletes its disk and record; keeps the staged one and never touches another iface', async () => {
    const t = setup();
    await t.connector.connect(t.conn(ORPHAN));
    const staged = await t.connector.connect(t.conn(STAGED));
    await foreignLogin(t.host);
    const foreignDisks = t.host.diskNames().length - 2;
    expect(foreignDisks).toBe(1);

    const report = await t.connector.sweepOrphans([t.conn(STAGED)]);

    expect(report).toEqual({ removed: [ORPHAN], kept: [] });
    expect(t.host.sessionOf(ORPHAN, P1)).toBeUndefined();
    expect([...t.host.records.keys()].some((k) => k.includes(ORPHAN))).toBe(false);
    expect(t.host.sessionOf(STAGED, P1)).toBeDefined();
    expect(t.host.sessionOf(FOREIGN, P1)).toBeDefined();
    expect(t.host.diskNames()).toHaveLength(2);
    expect(t.host.diskNames()).toContain(staged.path.replace('/dev/', ''));
    expect(t.logs.text()).toContain('iscsi session without a stage record removed');
  });

  it('a multipath orphan: its map goes, then both paths', async () => {
    const t = setup();
    await t.connector.connect(t.conn(ORPHAN, true));
    expect(t.host.mapOf(`3${wwid('a').slice(4)}`)).toBeDefined();

    expect(await t.connector.sweepOrphans([])).toEqual({ removed: [ORPHAN], kept: [] });

    expect(t.host.mapOf(`3${wwid('a').slice(4)}`)).toBeUndefined();
    expect(t.host.sessionOf(ORPHAN, P1)).toBeUndefined();
    expect(t.host.sessionOf(ORPHAN, P2)).toBeUndefined();
    expect(t.host.diskNames()).toEqual([]);
  });

  it('an orphan whose disk is mounted, or whose map is bind-mounted into a pod, is left alone with a warning', async () => {
    const t = setup();
    const mounted = await t.connector.connect(t.conn(ORPHAN));
    const disk = mounted.path.replace('/dev/', '');
    t.host.fs.file(`/sys/block/${disk}/dev`, '8:0\n');
    t.host.fs.file('/proc/self/mountinfo', '30 1 8:0 / /mnt/somewhere rw - ext4 /dev/sda rw\n');
    expect(await t.connector.sweepOrphans([])).toEqual({ removed: [], kept: [{ iqn: ORPHAN, reason: `${disk} is in use` }] });
    expect(t.host.sessionOf(ORPHAN, P1)).toBeDefined();

    const u = setup();
    const dev = await u.connector.connect(u.conn(ORPHAN, true));
    const dm = dev.path.replace('/dev/', '');
    u.host.fs.file('/proc/self/mountinfo', `40 1 0:5 /${dm} /var/lib/kubelet/pods/p/volumeDevices/v rw - devtmpfs udev rw\n`);
    expect((await u.connector.sweepOrphans([])).kept).toEqual([{ iqn: ORPHAN, reason: `${dm} is in use` }]);
    expect(u.host.mapOf(`3${wwid('a').slice(4)}`)).toBeDefined();
    expect(u.logs.text()).toContain('left alone: its device is in use');
  });

  it('when mountinfo cannot be read, nothing is removed', async () => {
    const t = setup();
    await t.connector.connect(t.conn(ORPHAN));
    t.host.fs.remove('/proc/self/mountinfo');
    await expect(t.connector.sweepOrphans([])).rejects.toThrow();
    expect(t.host.sessionOf(ORPHAN, P1)).toBeDefined();
  });
});
