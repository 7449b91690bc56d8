import type { Exec, ExecOptions, ExecResult } from '../../host/exec.js';
import { ExecError } from '../../host/exec.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { ChapCredentials, IscsiTarget } from '../connection-data.js';
import { parseSendTargets, parseSessions, type DiscoveredTarget, type IscsiSession } from './target.js';

/** iscsiadm exit codes (open-iscsi include/iscsi_err.h). */
export const ISCSI_ERR_IDBM = 6;
export const ISCSI_ERR_SESS_EXISTS = 15;
export const ISCSI_ERR_NO_OBJS_FOUND = 21;
/** Before open-iscsi 2.0-871 "no records" was 255. */
const NO_RECORD = [ISCSI_ERR_NO_OBJS_FOUND, 255];

export interface IscsiadmOptions {
  exec: Exec;
  log: Logger;
  /** The iface every node record of this driver is bound to. */
  iface: string;
  /**
   * iscsid's own login attempts per login (node.session.initial_login_retry_max; open-iscsi's
   * default is 8, i.e. up to 2 minutes against a portal that does not answer). A node record
   * setting, so it bounds iscsid even when our iscsiadm call has given up.
   */
  loginRetries: number;
}

/**
 * open-iscsi's command line, one method per thing the connector does with it. Every node
 * record is created on this driver's own iface, so records and sessions of other software on the
 * host are never touched (and start-up cleanup can tell ours). CHAP passwords only ever travel in
 * `secrets`-masked argv.
 */
export class Iscsiadm {
  constructor(private readonly o: IscsiadmOptions) {}

  async sessions(signal?: AbortSignal): Promise<IscsiSession[]> {
    const r = await this.o.exec.run('iscsiadm', ['-m', 'session'], { signal, okExitCodes: [ISCSI_ERR_NO_OBJS_FOUND] });
    return r.exitCode === ISCSI_ERR_NO_OBJS_FOUND ? [] : parseSessions(r.stdout);
  }

  /**
   * The driver's iface, made once per host: a copy of software iSCSI over TCP under our name.
   * `-m iface -I <name>` exits 0 when it exists.
   */
  async ensureIface(signal?: AbortSignal): Promise<void> {
    const shown = await this.o.exec.run('iscsiadm', ['-m', 'iface', '-I', this.o.iface], {
      signal,
      okExitCodes: [ISCSI_ERR_IDBM, ISCSI_ERR_NO_OBJS_FOUND],
    });
    if (shown.exitCode === 0) return;
    await this.o.exec.run('iscsiadm', ['-m', 'iface', '-I', this.o.iface, '--op', 'new'], { signal, okExitCodes: [ISCSI_ERR_SESS_EXISTS] });
    await this.o.exec.run('iscsiadm', ['-m', 'iface', '-I', this.o.iface, '--op', 'update', '-n', 'iface.transport_name', '-v', 'tcp'], { signal });
  }

  /**
   * The node record of one path, made or brought up to date: manual start-up (kubelet stages
   * again after a reboot; the host must not log in on its own), manual scan (only the LUNs we ask
   * for appear: a target's other LUNs are other volumes), bounded login retries, and CHAP.
   */
  async ensureRecord(t: IscsiTarget, auth: ChapCredentials | undefined, opts: ExecOptions): Promise<void> {
    const shown = await this.node(t, [], { ...opts, okExitCodes: NO_RECORD });
    if (shown.exitCode !== 0) await this.node(t, ['--op', 'new'], opts);
    const settings: [string, string][] = [
      ['node.startup', 'manual'],
      ['node.session.initial_login_retry_max', String(this.o.loginRetries)],
    ];
    if (auth) {
      settings.push(['node.session.auth.authmethod', auth.method], ['node.session.auth.username', auth.username], ['node.session.auth.password', auth.password]);
    }
    await this.update(t, settings, opts);
    try {
      await this.update(t, [['node.session.scan', 'manual']], opts);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      // open-iscsi before 2.0.877 has no manual scan and scans every LUN at login: harmless, we
      // scan ours explicitly and count only disks we reach through our LUN.
      this.o.log.debug({ iqn: t.iqn, err: errorMessage(err) }, 'iscsiadm has no node.session.scan');
    }
  }

  /** Logs in; an existing session (15) is success. */
  async login(t: IscsiTarget, opts: ExecOptions): Promise<void> {
    await this.node(t, ['--login'], { ...opts, okExitCodes: [ISCSI_ERR_SESS_EXISTS] });
  }

  async logout(t: IscsiTarget, opts: ExecOptions = {}): Promise<void> {
    await this.node(t, ['--logout'], { ...opts, okExitCodes: NO_RECORD });
  }

  /** The record holds the CHAP secret in clear text: never leave it behind. */
  async deleteRecord(t: IscsiTarget, opts: ExecOptions = {}): Promise<void> {
    await this.node(t, ['--op', 'delete'], { ...opts, okExitCodes: NO_RECORD });
  }

  /**
   * Sendtargets discovery on one portal, without writing node records for what it finds. With
   * discovery CHAP the credentials must sit in a discovery record; it is deleted again at once.
   */
  async discover(portal: string, auth: ChapCredentials | undefined, opts: ExecOptions): Promise<DiscoveredTarget[]> {
    const base = ['-m', 'discoverydb', '-t', 'sendtargets', '-p', portal, '-I', this.o.iface];
    if (!auth) {
      const r = await this.o.exec.run('iscsiadm', ['-m', 'discovery', '-t', 'sendtargets', '-p', portal, '-I', this.o.iface, '--op', 'nonpersistent'], opts);
      return parseSendTargets(r.stdout);
    }
    const update = (): Promise<ExecResult> =>
      this.o.exec.run(
        'iscsiadm',
        [
          ...base,
          '--op',
          'update',
          '-n',
          'discovery.sendtargets.auth.authmethod',
          '-v',
          auth.method,
          '-n',
          'discovery.sendtargets.auth.username',
          '-v',
          auth.username,
          '-n',
          'discovery.sendtargets.auth.password',
          '-v',
          auth.password,
        ],
        opts,
      );
    try {
      try {
        await update();
      } catch (err) {
        // 6 = no such discovery record yet: create it, then set the credentials.
        if (!(err instanceof ExecError) || err.exitCode !== ISCSI_ERR_IDBM) throw err;
        await this.o.exec.run('iscsiadm', [...base, '--op', 'new'], opts);
        await update();
      }
      const r = await this.o.exec.run('iscsiadm', [...base, '--discover', '--op', 'nonpersistent'], opts);
      return parseSendTargets(r.stdout);
    } finally {
      await this.o.exec
        .run('iscsiadm', [...base, '--op', 'delete'], { okExitCodes: [ISCSI_ERR_IDBM, ...NO_RECORD] })
        .catch((err: unknown) => this.o.log.warn({ portal, err: errorMessage(err) }, 'could not delete the iSCSI discovery record'));
    }
  }

  private node(t: IscsiTarget, args: string[], options: ExecOptions): Promise<ExecResult> {
    return this.o.exec.run('iscsiadm', ['-m', 'node', '-T', t.iqn, '-p', t.portal, '-I', this.o.iface, ...args], options);
  }

  /** Several settings in one call: iscsiadm takes repeated -n/-v pairs. */
  private update(t: IscsiTarget, settings: [string, string][], options: ExecOptions): Promise<ExecResult> {
    return this.node(t, ['--op', 'update', ...settings.flatMap(([n, v]) => ['-n', n, '-v', v])], options);
  }
}
