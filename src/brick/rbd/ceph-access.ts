import { randomUUID } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostFs } from '../../host/host-fs.js';
import type { Logger } from '../../log/logger.js';
import { errorMessage, failedPrecondition } from '../../util/errors.js';
import type { RbdConnection } from '../connection-data.js';

/** The arguments that let one `rbd` call reach the cluster as the connection's user. */
export interface CephAccess {
  args: string[];
  /** Values to mask wherever the call is shown. */
  secrets: string[];
  /** Removes the temporary key file, if one was written. Never throws. */
  release(): Promise<void>;
}

export interface CephAccessOptions {
  fs: HostFs;
  log: Logger;
  /** Where key files are written: a tmpfs, so a key never reaches a disk. */
  keyDir: string;
  /** The same directory as `rbd` sees it (chroot/nsenter: the plugin writes /host/dev/shm, rbd reads /dev/shm). */
  keyDirForExec: string;
  /** The root host programs run in, as this process sees it ("/", "/host", "/proc/1/root"). */
  hostRoot: string;
}

/** A key from a node-stage secret: a bare base64 key, or keyring text (`[client.x]\n key = …`). */
function isKeyring(secret: string): boolean {
  return /^\s*\[client\.[^\]]+\]/m.test(secret) || /^\s*key\s*=/m.test(secret);
}

/** os-brick's and the Ceph tools' place for a client's keyring on a node. */
export function nodeKeyringPath(conn: Pick<RbdConnection, 'clusterName' | 'user'>): string {
  return `/etc/ceph/${conn.clusterName}.client.${conn.user}.keyring`;
}

/**
 * The key, in this order: the node-stage secret (written to a 0600 file on tmpfs, removed after
 * the call), else the node's own keyring at /etc/ceph/<cluster>.client.<user>.keyring. Neither is
 * FAILED_PRECONDITION naming both — never a call that would wait minutes for cephx to give up.
 * The key never reaches argv or a log.
 */
export async function cephAccess(o: CephAccessOptions, conn: RbdConnection, secretKey: string | undefined): Promise<CephAccess> {
  const base = ['--cluster', conn.clusterName, '--id', conn.user, '-m', conn.monitors.join(',')];
  if (secretKey) {
    const name = `cinder-metal-csi-rbd-${randomUUID()}.key`;
    const file = join(o.keyDir, name);
    const keyring = isKeyring(secretKey);
    await writeSecretFile(file, keyring ? ensureNewline(secretKey) : `${secretKey.trim()}\n`);
    return {
      args: [...base, keyring ? '--keyring' : '--keyfile', join(o.keyDirForExec, name)],
      secrets: [secretKey],
      release: () => removeQuietly(file, o.log),
    };
  }
  const keyring = nodeKeyringPath(conn);
  if (await o.fs.exists(join(o.hostRoot, keyring))) {
    return { args: [...base, '--keyring', keyring], secrets: [], release: () => Promise.resolve() };
  }
  throw failedPrecondition(
    `no Ceph key for client.${conn.user}: give it in the StorageClass's node-stage secret (key "userKey") or place ${keyring} on this node`,
  );
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** Create with O_EXCL and mode 0600 (then chmod, whatever the umask), write, close. */
async function writeSecretFile(path: string, content: string): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  try {
    await fh.chmod(0o600);
    await fh.writeFile(content, 'utf8');
  } finally {
    await fh.close();
  }
}

async function removeQuietly(path: string, log: Logger): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log.error({ path, err: errorMessage(err) }, 'could not remove an rbd key file');
  }
}
