import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedExec, step, type ScriptEntry, type ScriptStep } from '../../test/fakes/scripted-exec.js';
import { FakeHostFs } from '../../test/fakes/fake-host-fs.js';
import { capturingLogger } from '../../test/helpers/log-capture.js';
import { Code, CsiError } from '../util/errors.js';
import { WaitTimeoutError } from '../host/wait.js';
import type { IscsiConnection } from './connection-data.js';
import { IscsiConnector } from './iscsi.js';
import { KeyedMutex } from './keyed-mutex.js';

const IQN = 'iqn.2010-10.org.openstack:volume-5b0c2c3e-1d4e-4a6b-9c1d-2f3e4a5b6c7d';
const OTHER_IQN = 'iqn.2010-10.org.openstack:volume-00000000-aaaa-bbbb-cccc-000000000000';
const P1 = '10.0.0.1:3260';
const P2 = '10.0.0.2:3260';
const WWID = 'naa.6001405b0c2c3e1d4e4a6b9c1d2f3e4a';
const SCSI_ID = '36001405b0c2c3e1d4e4a6b9c1d2f3e4a';
const CHAP_PASSWORD = 'Chap-Pa55word-91f3e';
const DISCOVERY_PASSWORD = 'Disc0very-Secret-7aa1';

const byPath = (portal: string, lun: number, iqn = IQN): string => `/dev/disk/by-path/ip-${portal}-iscsi-${iqn}-lun-${lun}`;
const node = (portal: string, ...rest: string[]): string[] => ['-m', 'node', '-T', IQN, '-p', portal, ...rest];
const update = (portal: string, name: string, value: string): string[] => node(portal, '--op', 'update', '-n', name, '-v', value);
const sessionLine = (sid: number, portal: string, iqn = IQN): string => `tcp: [${sid}] ${portal},1 ${iqn} (non-flash)`;

function conn(over: Partial<IscsiConnection> = {}): IscsiConnection {
  return { type: 'iscsi', targets: [{ portal: P1, iqn: IQN, lun: 1 }], multipath: false, accessMode: 'rw', ...over };
}

function recordSteps(portal: string, opts: { exists?: boolean; chap?: boolean } = {}): ScriptStep[] {
  const steps: ScriptStep[] = [step('iscsiadm', node(portal), opts.exists ? { stdout: 'node.name = x\n' } : { exitCode: 21, stderr: 'iscsiadm: No records found\n' })];
  if (!opts.exists) steps.push(step('iscsiadm', node(portal, '--interface', 'default', '--op', 'new'), { stdout: `New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] ${portal},-1 ${IQN}] added\n` }));
  steps.push(step('iscsiadm', update(portal, 'node.startup', 'manual')));
  steps.push(step('iscsiadm', update(portal, 'node.session.scan', 'manual')));
  if (opts.chap) {
    steps.push(step('iscsiadm', update(portal, 'node.session.auth.authmethod', 'CHAP')));
    steps.push(step('iscsiadm', update(portal, 'node.session.auth.username', 'chapuser')));
    steps.push(step('iscsiadm', update(portal, 'node.session.auth.password', CHAP_PASSWORD), undefined, { secrets: [CHAP_PASSWORD] }));
  }
  return steps;
}

/**
 * The kernel and udev side of an iSCSI host: a login creates the session in sysfs, a scan of
 * "0 0 LUN" makes the disk appear a little later (with its by-path link and WWID), a delete
 * removes it.
 */
class FakeKernel {
  constructor(readonly fs: FakeHostFs) {}

  session(sid: number, host: number): void {
    this.fs.dir(`/sys/class/iscsi_session/session${sid}/device/target${host}:0:0`);
    this.fs.file(`/sys/class/scsi_host/host${host}/scan`, '');
  }

  lunOnScan(opts: { sid: number; host: number; lun: number; disk: string; portal: string; delayMs?: number; wwid?: string; sizeBytes?: number }): void {
    this.fs.onWrite(`/sys/class/scsi_host/host${opts.host}/scan`, (_p, data) => {
      if (data !== `0 0 ${opts.lun}`) return;
      setTimeout(() => this.disk(opts), opts.delayMs ?? 20);
    });
  }

  disk(opts: { sid: number; host: number; lun: number; disk: string; portal: string; wwid?: string; sizeBytes?: number; holders?: string[] }): void {
    const { fs } = this;
    const scsiDir = `/sys/class/iscsi_session/session${opts.sid}/device/target${opts.host}:0:0/${opts.host}:0:0:${opts.lun}`;
    fs.dir(scsiDir);
    fs.scsiDisk(opts.disk, { wwid: opts.wwid ?? WWID, byPath: byPath(opts.portal, opts.lun), sizeBytes: opts.sizeBytes, holders: opts.holders });
    fs.onWrite(`/sys/block/${opts.disk}/device/delete`, () => {
      fs.remove(`/sys/block/${opts.disk}`).remove(`/sys/class/block/${opts.disk}`).remove(`/dev/${opts.disk}`).remove(byPath(opts.portal, opts.lun)).remove(scsiDir);
    });
  }

  multipath(dm: string, disks: string[], opts: { name?: string; byId?: boolean; sizeBytes?: number } = {}): void {
    const { fs } = this;
    fs.block(`/dev/${dm}`);
    fs.file(`/sys/class/block/${dm}/size`, `${(opts.sizeBytes ?? 1 << 30) / 512}\n`);
    fs.file(`/sys/block/${dm}/dm/name`, `${opts.name ?? 'mpatha'}\n`);
    for (const d of disks) {
      fs.dir(`/sys/block/${dm}/slaves/${d}`);
      fs.dir(`/sys/block/${d}/holders/${dm}`);
    }
    if (opts.byId) fs.symlink(`/dev/disk/by-id/dm-uuid-mpath-${SCSI_ID}`, `../../${dm}`);
  }
}

function setup(steps: ScriptEntry[] = [], opts: { deviceTimeoutMs?: number; multipathTimeoutMs?: number } = {}) {
  const journal: string[] = [];
  const exec = new ScriptedExec(steps, journal);
  const fs = new FakeHostFs(journal);
  const kernel = new FakeKernel(fs);
  const logs = capturingLogger('trace');
  const connector = new IscsiConnector({
    exec,
    fs,
    log: logs.log,
    locks: new KeyedMutex(),
    deviceTimeoutMs: opts.deviceTimeoutMs ?? 2_000,
    multipathTimeoutMs: opts.multipathTimeoutMs ?? 2_000,
    pollMs: 10,
  });
  return { exec, fs, kernel, logs, connector, journal };
}

let current: ScriptedExec | undefined;
afterEach(() => {
  // Every test must consume its whole transcript, even when it forgot to say so.
  const e = current;
  current = undefined;
  e?.assertDone();
});

describe('IscsiConnector.connect, single path', () => {
  it('creates the record (manual startup, manual scan), logs in, scans only our LUN and waits for the by-path link', async () => {
    const t = setup([
      ...recordSteps(P1),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21, stderr: 'iscsiadm: No active sessions.\n' }),
      step('iscsiadm', node(P1, '--login'), { stdout: `Logging in to [iface: default, target: ${IQN}, portal: 10.0.0.1,3260]\nLogin to [...] successful.\n` }, {
        onCall: () => t.kernel.session(3, 2),
      }),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, '10.9.9.9:3260', OTHER_IQN)}\n${sessionLine(3, P1)}\n` }),
    ]);
    current = t.exec;
    t.kernel.lunOnScan({ sid: 3, host: 2, lun: 1, disk: 'sdb', portal: P1, delayMs: 30 });

    const started = Date.now();
    const dev = await t.connector.connect(conn());
    expect(dev).toEqual({ path: '/dev/sdb', wwn: SCSI_ID, multipath: false });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(t.fs.writes).toEqual([{ path: '/sys/class/scsi_host/host2/scan', data: '0 0 1' }]);
  });

  it('does not log in again when the session exists (another LUN of the target), and finds the device afterwards', async () => {
    const t = setup([...recordSteps(P1, { exists: true }), step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(7, P1)}\n` })]);
    current = t.exec;
    t.kernel.session(7, 4);
    t.kernel.disk({ sid: 7, host: 4, lun: 9, disk: 'sdc', portal: P1 }); // the other volume
    t.kernel.lunOnScan({ sid: 7, host: 4, lun: 1, disk: 'sdd', portal: P1 });
    const dev = await t.connector.connect(conn());
    expect(dev.path).toBe('/dev/sdd');
    expect(t.exec.argvOf('iscsiadm').some((a) => a.includes('--login'))).toBe(false);

    expect(await t.connector.findDevice(conn())).toEqual({ path: '/dev/sdd', wwn: SCSI_ID, multipath: false });
    expect(await t.connector.findDevice(conn({ targets: [{ portal: P1, iqn: IQN, lun: 5 }] }))).toBeUndefined();
  });

  it('takes iscsiadm exit 15 (session already exists) as a successful login', async () => {
    const t = setup([
      ...recordSteps(P1, { exists: true }),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      step('iscsiadm', node(P1, '--login'), { exitCode: 15, stderr: 'iscsiadm: default: 1 session requested, but 1 already present.\n' }, {
        onCall: () => t.kernel.session(2, 5),
      }),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(2, P1)}\n` }),
    ]);
    current = t.exec;
    t.kernel.lunOnScan({ sid: 2, host: 5, lun: 1, disk: 'sde', portal: P1, delayMs: 5 });
    expect((await t.connector.connect(conn())).path).toBe('/dev/sde');
  });

  it('fails after the bound with an error naming the by-path link when the LUN never appears, and cleans up', async () => {
    const t = setup(
      [
        ...recordSteps(P1),
        step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
        step('iscsiadm', node(P1, '--login'), {}, { onCall: () => t.kernel.session(4, 6) }),
        step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(4, P1)}\n` }),
        // cleanup: no device to remove; the session has no other LUN → logout and delete record
        step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(4, P1)}\n` }),
        step('iscsiadm', node(P1, '--logout')),
        step('iscsiadm', node(P1, '--op', 'delete')),
      ],
      { deviceTimeoutMs: 150 },
    );
    current = t.exec;
    const started = Date.now();
    const err = await t.connector.connect(conn()).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as CsiError).code).toBe(Code.DEADLINE_EXCEEDED);
    expect((err as Error).message).toContain(byPath(P1, 1));
    expect((err as Error).message).toContain('150 ms');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('tries the next portal when a login fails, after cleaning up the failed one', async () => {
    const t = setup([
      ...recordSteps(P1),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      step('iscsiadm', node(P1, '--login'), { exitCode: 8, stderr: 'iscsiadm: initiator reported error (8 - connection timed out)\n' }),
      // cleanup of P1: no session → only the record is deleted
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      step('iscsiadm', node(P1, '--op', 'delete')),
      ...recordSteps(P2),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      step('iscsiadm', node(P2, '--login'), {}, { onCall: () => t.kernel.session(5, 7) }),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(5, P2)}\n` }),
    ]);
    current = t.exec;
    t.kernel.lunOnScan({ sid: 5, host: 7, lun: 1, disk: 'sdf', portal: P2 });
    const dev = await t.connector.connect(conn({ targets: [{ portal: P1, iqn: IQN, lun: 1 }, { portal: P2, iqn: IQN, lun: 1 }] }));
    expect(dev.path).toBe('/dev/sdf');
  });

  it('refuses option-looking or malformed names before running anything', async () => {
    const t = setup([]);
    current = t.exec;
    for (const bad of [
      conn({ targets: [{ portal: P1, iqn: '--op=delete', lun: 1 }] }),
      conn({ targets: [{ portal: '-p 1.2.3.4', iqn: IQN, lun: 1 }] }),
      conn({ targets: [{ portal: P1, iqn: IQN, lun: -1 }] }),
      conn({ targets: [] }),
    ]) {
      const err = await t.connector.connect(bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CsiError);
      expect((err as CsiError).code).toBe(Code.INVALID_ARGUMENT);
    }
    expect(t.exec.calls).toHaveLength(0);
  });
});

describe('IscsiConnector CHAP and discovery CHAP', () => {
  it('passes both passwords to iscsiadm but never shows them in a log line, a masked argv or an error', async () => {
    const c = conn({
      multipath: true,
      auth: { method: 'CHAP', username: 'chapuser', password: CHAP_PASSWORD },
      discoveryAuth: { method: 'CHAP', username: 'discuser', password: DISCOVERY_PASSWORD },
    });
    const disc = ['-m', 'discoverydb', '-t', 'sendtargets', '-p', P1, '-I', 'default'];
    const discUpdate = [
      ...disc,
      '--op',
      'update',
      '-n',
      'discovery.sendtargets.auth.authmethod',
      '-v',
      'CHAP',
      '-n',
      'discovery.sendtargets.auth.username',
      '-v',
      'discuser',
      '-n',
      'discovery.sendtargets.auth.password',
      '-v',
      DISCOVERY_PASSWORD,
    ];
    const t = setup([
      // no discovery record yet (6), create it, set discovery CHAP, discover without storing nodes
      step('iscsiadm', discUpdate, { exitCode: 6, stderr: `iscsiadm: Discovery record [${P1}] not found. (password ${DISCOVERY_PASSWORD})\n` }, { secrets: [DISCOVERY_PASSWORD, CHAP_PASSWORD] }),
      step('iscsiadm', [...disc, '--op', 'new']),
      step('iscsiadm', discUpdate, {}, { secrets: [DISCOVERY_PASSWORD] }),
      step('iscsiadm', [...disc, '--discover', '--op', 'nonpersistent'], {
        stdout: `${P1},1 ${IQN}\n${P2},1 ${IQN}\n10.0.0.3:3260,1 ${OTHER_IQN}\n`,
      }),
      step('iscsiadm', [...disc, '--op', 'delete']),
      ...recordSteps(P1, { chap: true }),
      ...recordSteps(P2, { chap: true }),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      {
        anyOrder: [
          step('iscsiadm', node(P1, '--login'), {}, { onCall: () => t.kernel.session(1, 3) }),
          step('iscsiadm', node(P2, '--login'), {}, { onCall: () => t.kernel.session(2, 4) }),
        ],
      },
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n${sessionLine(2, P2)}\n` }),
    ]);
    current = t.exec;
    t.kernel.lunOnScan({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1 });
    t.kernel.lunOnScan({ sid: 2, host: 4, lun: 1, disk: 'sdc', portal: P2, delayMs: 40 });
    setTimeout(() => t.kernel.multipath('dm-2', ['sdb', 'sdc'], { byId: true }), 80);

    const dev = await t.connector.connect(c);
    expect(dev).toEqual({ path: '/dev/dm-2', wwn: SCSI_ID, multipath: true });

    // The real argv carried the passwords ...
    const argvs = t.exec.argvOf('iscsiadm');
    expect(argvs.filter((a) => a.includes(CHAP_PASSWORD))).toHaveLength(2);
    expect(argvs.filter((a) => a.includes(DISCOVERY_PASSWORD))).toHaveLength(2);
    // ... and nothing that is logged or reported shows them.
    for (const secret of [CHAP_PASSWORD, DISCOVERY_PASSWORD]) {
      expect(t.exec.leaks(secret)).toEqual([]);
      expect(t.logs.text()).not.toContain(secret);
      expect(t.journal.join('\n')).not.toContain(secret);
    }
    expect(t.exec.errors).toHaveLength(1);
    expect(t.exec.errors[0]?.message).toContain('***');
    expect(t.logs.lines.length).toBeGreaterThan(0);
  });

  it('masks the password in the error when setting it fails', async () => {
    const t = setup([
      ...recordSteps(P1).slice(0, 4),
      step('iscsiadm', update(P1, 'node.session.auth.authmethod', 'CHAP')),
      step('iscsiadm', update(P1, 'node.session.auth.username', 'chapuser')),
      step('iscsiadm', update(P1, 'node.session.auth.password', CHAP_PASSWORD), { exitCode: 6, stderr: `iscsiadm: could not set ${CHAP_PASSWORD}\n` }),
      // cleanup
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      step('iscsiadm', node(P1, '--op', 'delete')),
    ]);
    current = t.exec;
    const err = await t.connector.connect(conn({ auth: { method: 'CHAP', username: 'chapuser', password: CHAP_PASSWORD } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toContain(CHAP_PASSWORD);
    expect((err as Error).message).toContain('node.session.auth.password -v ***');
    expect(t.exec.leaks(CHAP_PASSWORD)).toEqual([]);
    expect(t.logs.text()).not.toContain(CHAP_PASSWORD);
  });
});

describe('IscsiConnector multipath', () => {
  it('logs in to all portals in parallel and waits for the dm device (found through the holders)', async () => {
    const loginTimes: { portal: string; start: number; end: number }[] = [];
    const timed = (portal: string, sid: number, host: number): ScriptStep =>
      step('iscsiadm', node(portal, '--login'), {}, {
        delayMs: 60,
        onCall: () => {
          const start = Date.now() - 60;
          loginTimes.push({ portal, start, end: Date.now() });
          t.kernel.session(sid, host);
        },
      });
    const t = setup([
      ...recordSteps(P1),
      ...recordSteps(P2),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      { anyOrder: [timed(P1, 1, 3), timed(P2, 2, 4)] },
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n${sessionLine(2, P2)}\n` }),
    ]);
    current = t.exec;
    t.kernel.lunOnScan({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1 });
    t.kernel.lunOnScan({ sid: 2, host: 4, lun: 1, disk: 'sdc', portal: P2 });
    setTimeout(() => t.kernel.multipath('dm-0', ['sdb', 'sdc']), 120);

    const dev = await t.connector.connect(
      conn({ multipath: true, targets: [{ portal: P1, iqn: IQN, lun: 1 }, { portal: P2, iqn: IQN, lun: 1 }] }),
    );
    expect(dev).toEqual({ path: '/dev/dm-0', wwn: SCSI_ID, multipath: true });
    expect(loginTimes).toHaveLength(2);
    const [a, b] = loginTimes;
    // overlapping: the second started before the first ended
    expect(Math.max(a!.start, b!.start)).toBeLessThan(Math.min(a!.end, b!.end));
  });

  it('goes on with the paths that work when one portal is down', async () => {
    const t = setup([
      ...recordSteps(P1),
      ...recordSteps(P2),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      {
        anyOrder: [
          step('iscsiadm', node(P1, '--login'), {}, { onCall: () => t.kernel.session(1, 3) }),
          step('iscsiadm', node(P2, '--login'), { exitCode: 8, stderr: 'connection timed out' }),
        ],
      },
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n` }),
    ]);
    current = t.exec;
    t.kernel.lunOnScan({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1 });
    setTimeout(() => t.kernel.multipath('dm-1', ['sdb'], { byId: true }), 50);
    const dev = await t.connector.connect(conn({ multipath: true, targets: [{ portal: P1, iqn: IQN, lun: 1 }, { portal: P2, iqn: IQN, lun: 1 }] }));
    expect(dev.path).toBe('/dev/dm-1');
  });

  it('times out naming the multipath link when multipathd never builds the map', async () => {
    const t = setup(
      [
        // one portal from Cinder for a multipath volume: ask it for the others
        step('iscsiadm', ['-m', 'discovery', '-t', 'sendtargets', '-p', P1, '-I', 'default', '--op', 'nonpersistent'], {
          stdout: `${P1},1 ${IQN}\n10.0.0.3:3260,1 ${OTHER_IQN}\n`,
        }),
        ...recordSteps(P1, { exists: true }),
        step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n` }),
        // cleanup: remove the path, then log out (no other LUN)
        step('blockdev', ['--flushbufs', '/dev/sdb']),
        step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n` }),
        step('iscsiadm', node(P1, '--logout')),
        step('iscsiadm', node(P1, '--op', 'delete')),
      ],
      { multipathTimeoutMs: 100 },
    );
    current = t.exec;
    t.kernel.session(1, 3);
    t.kernel.lunOnScan({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1, delayMs: 1 });
    const err = await t.connector
      .connect(conn({ multipath: true }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toContain(`/dev/disk/by-id/dm-uuid-mpath-${SCSI_ID}`);
    expect(t.fs.has('/dev/sdb')).toBe(false);
  });
});

describe('IscsiConnector.disconnect', () => {
  it('flushes, deletes the SCSI device, logs out, then deletes the node record — in that order', async () => {
    const t = setup([
      step('blockdev', ['--flushbufs', '/dev/sdb']),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(3, P1)}\n` }),
      step('iscsiadm', node(P1, '--logout'), { stdout: 'Logout of [sid: 3, ...] successful.\n' }),
      step('iscsiadm', node(P1, '--op', 'delete')),
    ]);
    current = t.exec;
    t.kernel.session(3, 2);
    t.kernel.disk({ sid: 3, host: 2, lun: 1, disk: 'sdb', portal: P1 });
    await t.connector.disconnect(conn(), { path: '/dev/sdb', wwn: SCSI_ID });
    expect(t.journal).toEqual([
      'exec blockdev --flushbufs /dev/sdb',
      'write /sys/block/sdb/device/delete 1',
      'exec iscsiadm -m session',
      `exec iscsiadm ${node(P1, '--logout').join(' ')}`,
      `exec iscsiadm ${node(P1, '--op', 'delete').join(' ')}`,
    ]);
    expect(t.fs.has('/dev/sdb')).toBe(false);
  });

  it('keeps the session and the record when another LUN of the target is in use', async () => {
    const t = setup([
      step('blockdev', ['--flushbufs', '/dev/sdb']),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(3, P1)}\n` }),
    ]);
    current = t.exec;
    t.kernel.session(3, 2);
    t.kernel.disk({ sid: 3, host: 2, lun: 1, disk: 'sdb', portal: P1 });
    t.kernel.disk({ sid: 3, host: 2, lun: 2, disk: 'sdc', portal: P1 });
    await t.connector.disconnect(conn({ sharedTargets: true }), { path: '/dev/sdb' });
    expect(t.exec.argvOf('iscsiadm').some((a) => a.includes('--logout') || a.includes('delete'))).toBe(false);
    expect(t.fs.has('/dev/sdb')).toBe(false);
    expect(t.fs.has('/dev/sdc')).toBe(true);
    expect(t.logs.text()).toContain('other LUNs of the target are in use');
  });

  it('is idempotent: nothing connected → only the stale record is deleted', async () => {
    const t = setup([step('iscsiadm', ['-m', 'session'], { exitCode: 21 }), step('iscsiadm', node(P1, '--op', 'delete'), { exitCode: 21 })]);
    current = t.exec;
    await t.connector.disconnect(conn(), undefined);
  });

  it('stops when flushing a single path fails (unless forced), before deleting anything', async () => {
    const t = setup([step('blockdev', ['--flushbufs', '/dev/sdb'], { exitCode: 1, stderr: 'blockdev: ioctl error on BLKFLSBUF: Input/output error' })]);
    current = t.exec;
    t.kernel.session(3, 2);
    t.kernel.disk({ sid: 3, host: 2, lun: 1, disk: 'sdb', portal: P1 });
    await expect(t.connector.disconnect(conn(), { path: '/dev/sdb' })).rejects.toThrow(/BLKFLSBUF/);
    expect(t.fs.has('/dev/sdb')).toBe(true);

    t.exec.expect(
      step('blockdev', ['--flushbufs', '/dev/sdb'], { exitCode: 1, stderr: 'Input/output error' }),
      step('iscsiadm', ['-m', 'session'], { exitCode: 21 }),
      step('iscsiadm', node(P1, '--op', 'delete')),
    );
    await t.connector.disconnect(conn(), { path: '/dev/sdb' }, { force: true });
    expect(t.fs.has('/dev/sdb')).toBe(false);
  });

  it('multipath: flush the map, multipath -f, then flush and delete each path, then log out of every portal', async () => {
    const t = setup([
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n${sessionLine(2, P2)}\n` }),
      step('blockdev', ['--flushbufs', '/dev/dm-0']),
      step('multipath', ['-f', 'mpatha']),
      step('blockdev', ['--flushbufs', '/dev/sdb']),
      step('blockdev', ['--flushbufs', '/dev/sdc']),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n${sessionLine(2, P2)}\n` }),
      step('iscsiadm', node(P1, '--logout')),
      step('iscsiadm', node(P1, '--op', 'delete')),
      step('iscsiadm', node(P2, '--logout')),
      step('iscsiadm', node(P2, '--op', 'delete')),
    ]);
    current = t.exec;
    t.kernel.session(1, 3);
    t.kernel.session(2, 4);
    t.kernel.disk({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1 });
    t.kernel.disk({ sid: 2, host: 4, lun: 1, disk: 'sdc', portal: P2 });
    t.kernel.multipath('dm-0', ['sdb', 'sdc']);
    // Cinder gave one portal; the second path is found through the sessions of the IQN.
    await t.connector.disconnect(conn({ multipath: true }), { path: '/dev/dm-0', wwn: SCSI_ID, multipath: true });
    const order = t.journal.filter((l) => !l.endsWith('-m session'));
    expect(order.indexOf('exec multipath -f mpatha')).toBeLessThan(order.indexOf('write /sys/block/sdb/device/delete 1'));
    expect(order.indexOf('write /sys/block/sdc/device/delete 1')).toBeLessThan(order.indexOf(`exec iscsiadm ${node(P1, '--logout').join(' ')}`));
  });
});

describe('IscsiConnector.extend', () => {
  it('rescans every path, resizes the multipath map and returns the new size', async () => {
    const t = setup([
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(1, P1)}\n${sessionLine(2, P2)}\n` }),
      step('multipathd', ['resize', 'map', 'mpatha'], {}, { onCall: () => void t.fs.setSize('dm-0', 2 * 2 ** 30) }),
    ]);
    current = t.exec;
    t.kernel.session(1, 3);
    t.kernel.session(2, 4);
    t.kernel.disk({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1 });
    t.kernel.disk({ sid: 2, host: 4, lun: 1, disk: 'sdc', portal: P2 });
    t.kernel.multipath('dm-0', ['sdb', 'sdc']);
    const size = await t.connector.extend(conn({ multipath: true }), { path: '/dev/dm-0', multipath: true });
    expect(size).toBe(2 * 2 ** 30);
    expect(t.fs.writes.map((w) => w.path).sort()).toEqual(['/sys/block/sdb/device/rescan', '/sys/block/sdc/device/rescan']);
  });

  it('single path: rescan and read the size from sysfs', async () => {
    const t = setup([]);
    current = t.exec;
    t.kernel.session(1, 3);
    t.kernel.disk({ sid: 1, host: 3, lun: 1, disk: 'sdb', portal: P1 });
    t.fs.onWrite('/sys/block/sdb/device/rescan', (_p, _d, fs) => void fs.setSize('sdb', 3 * 2 ** 30));
    expect(await t.connector.extend(conn(), { path: '/dev/sdb' })).toBe(3 * 2 ** 30);
  });
});

describe('IscsiConnector cancellation', () => {
  it('stops waiting when the caller aborts, with the abort reason, and leaves the session for the retry', async () => {
    const t = setup([
      ...recordSteps(P1, { exists: true }),
      step('iscsiadm', ['-m', 'session'], { stdout: `${sessionLine(4, P1)}\n` }),
    ]);
    current = t.exec;
    t.kernel.session(4, 6);
    const ac = new AbortController();
    const reason = new Error('cancelled by the caller');
    setTimeout(() => ac.abort(reason), 50);
    await expect(t.connector.connect(conn(), { signal: ac.signal })).rejects.toBe(reason);
  });
});
