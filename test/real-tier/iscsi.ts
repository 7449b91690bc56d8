import { execFile } from 'node:child_process';

/**
 * A userspace iSCSI initiator for the target side of the proof: libiscsi's iscsi-readcapacity16
 * (Debian libiscsi-bin) logs in to the real tgtd target, with CHAP, and reads the LUN's capacity.
 * The kernel initiator cannot run on these machines (no SCSI initiator in the kernel, no dm).
 *
 * The CHAP password goes to libiscsi through LIBISCSI_CHAP_PASSWORD, not in the URL
 * (`iscsi://user%password@...` would put it in argv, readable in /proc/<pid>/cmdline).
 */
export const READCAPACITY = 'iscsi-readcapacity16';

export interface LoginTarget {
  portal: string;
  iqn: string;
  lun: number;
  /** The initiator name to log in as (-i). */
  initiator: string;
  username?: string;
  password?: string;
}

export interface ReadCapacityResult {
  ok: boolean;
  exitCode: number | null;
  /** (last LBA + 1) × block length, when the login and READ CAPACITY(16) worked. */
  bytes?: number;
  blockLength?: number;
  stdout: string;
  stderr: string;
}

export function targetUrl(t: Pick<LoginTarget, 'portal' | 'iqn' | 'lun' | 'username'>): string {
  return `iscsi://${t.username ? `${t.username}@` : ''}${t.portal}/${t.iqn}/${t.lun}`;
}

export function readCapacity(t: LoginTarget, timeoutMs = 20_000): Promise<ReadCapacityResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LIBISCSI_CHAP_PASSWORD;
  if (t.password !== undefined) env.LIBISCSI_CHAP_PASSWORD = t.password;
  return new Promise((resolve, reject) => {
    execFile(READCAPACITY, ['-i', t.initiator, targetUrl(t)], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (e && e.code === 'ENOENT') {
        reject(new Error(`${READCAPACITY} is not installed (Debian libiscsi-bin; test/real-cinder/install.sh installs it)`));
        return;
      }
      const exitCode = e ? (typeof e.code === 'number' ? e.code : null) : 0;
      const lba = /RETURNED LOGICAL BLOCK ADDRESS:\s*(\d+)/.exec(stdout);
      const len = /LOGICAL BLOCK LENGTH IN BYTES:\s*(\d+)/.exec(stdout);
      const out: ReadCapacityResult = { ok: !e && !!lba && !!len, exitCode, stdout, stderr };
      if (lba && len) {
        out.blockLength = Number(len[1]);
        out.bytes = (Number(lba[1]) + 1) * out.blockLength;
      }
      resolve(out);
    });
  });
}
