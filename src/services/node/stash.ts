import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ConnectionData } from '../../brick/connection-data.js';
import { replaceFileAtomically } from '../../host/atomic-file.js';
import { isFsType, type FsType } from '../../host/filesystem.js';
import { failedPrecondition, internal } from '../../util/errors.js';
import { validateConnection } from '../publish-context.js';
import type { NodeCapability } from './requests.js';

/**
 * What NodeStage did, written next to the staging path so NodeUnstage and NodeExpand need
 * nothing else (they get no publish_context) and work after a plugin restart.
 *
 * Where: for a mount volume, in the PARENT of the staging path, next to kubelet's vol_data.json
 * (kubelet gives each volume its own parent: .../csi/<driver>/<hash>/globalmount). Not inside
 * the staging directory: once mounted, that is the volume's root, which the workload writes. For
 * a block volume the parent (.../volumeDevices/staging/) is shared by every block volume, so
 * the stash goes inside the staging directory itself, where nothing is ever mounted.
 *
 * It holds no secrets: CHAP passwords are emptied before writing (disconnecting never needs them).
 */
export const STASH_FILE = 'cinder-metal-csi.json';

export interface Stash {
  version: 1;
  volumeId: string;
  /** The staging path as resolved when staged; a stash found for another path is not ours. */
  stagingPath: string;
  accessType: 'mount' | 'block';
  fsType?: FsType;
  mountFlags?: string[];
  readOnly: boolean;
  connection: ConnectionData;
  /** The device the connector returned (e.g. /dev/loop3, /dev/disk/by-id/...). */
  device: string;
  wwn?: string;
  /** RBD: krbd or rbd-nbd, as mapped at stage. */
  mapper?: 'krbd' | 'nbd';
  attachmentId?: string;
}

export function stashPath(stagingPath: string, accessType: 'mount' | 'block'): string {
  return accessType === 'mount' ? join(dirname(stagingPath), STASH_FILE) : join(stagingPath, STASH_FILE);
}

/** A copy of the connection with every password emptied. */
export function withoutSecrets(conn: ConnectionData): ConnectionData {
  const out = structuredClone(conn);
  if (out.type === 'iscsi') {
    if (out.auth) out.auth.password = '';
    if (out.discoveryAuth) out.discoveryAuth.password = '';
  }
  return out;
}

export function capabilityOfStash(s: Stash): NodeCapability {
  return s.accessType === 'block'
    ? { accessType: 'block', readOnly: s.readOnly }
    : { accessType: 'mount', fsType: s.fsType ?? 'ext4', mountFlags: s.mountFlags ?? [], readOnly: s.readOnly };
}

/** Writes atomically (0600 temp file, then rename): a crash never leaves half a stash. */
export async function writeStash(stash: Stash): Promise<string> {
  const clean: Stash = { ...stash, connection: withoutSecrets(stash.connection) };
  const path = stashPath(stash.stagingPath, stash.accessType);
  await replaceFileAtomically(path, `${JSON.stringify(clean, null, 2)}\n`, 0o600);
  return path;
}

/** The stash at one location, or undefined when there is none; a malformed one is an error. */
export async function readStashAt(path: string): Promise<Stash | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  try {
    return parseStash(JSON.parse(text));
  } catch (err) {
    throw internal(`the stage record ${path} is corrupt (${(err as Error).message}); inspect it and the device by hand`, err);
  }
}

/**
 * The stash of the volume staged at `stagingPath`, looked up where either access type puts it.
 * The inner location is only read when nothing is mounted at the staging path: a mounted
 * volume's root belongs to the workload, which could plant a file there.
 */
export async function findStash(
  stagingPath: string,
  opts: { stagingMounted: boolean },
): Promise<{ stash: Stash; path: string } | undefined> {
  const outer = stashPath(stagingPath, 'mount');
  const s = await readStashAt(outer);
  if (s && s.stagingPath === stagingPath) return { stash: s, path: outer };
  if (opts.stagingMounted) return undefined;
  const inner = stashPath(stagingPath, 'block');
  const b = await readStashAt(inner);
  if (b && b.stagingPath === stagingPath && b.accessType === 'block') return { stash: b, path: inner };
  return undefined;
}

/**
 * Before writing a mount stash: the parent of the staging path must not already hold another
 * staging path's stash (a CO that puts several staging paths in one directory).
 */
export async function assertStashSlotFree(stagingPath: string): Promise<void> {
  const s = await readStashAt(stashPath(stagingPath, 'mount'));
  if (s && s.stagingPath !== stagingPath) {
    throw failedPrecondition(
      `${dirname(stagingPath)} already holds the stage record of volume ${s.volumeId} staged at ${s.stagingPath}; ` +
        'each staging path needs a directory of its own',
    );
  }
}

export async function removeStash(path: string): Promise<void> {
  await rm(path, { force: true });
}

function parseStash(v: unknown): Stash {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
  const o = v as Record<string, unknown>;
  if (o.version !== 1) throw new Error(`unknown version ${JSON.stringify(o.version)}`);
  const str = (k: string): string => {
    const x = o[k];
    if (typeof x !== 'string' || x === '') throw new Error(`${k} is missing`);
    return x;
  };
  const accessType = o.accessType === 'mount' || o.accessType === 'block' ? o.accessType : undefined;
  if (!accessType) throw new Error('accessType is missing');
  if (typeof o.readOnly !== 'boolean') throw new Error('readOnly is missing');
  const stash: Stash = {
    version: 1,
    volumeId: str('volumeId'),
    stagingPath: str('stagingPath'),
    accessType,
    readOnly: o.readOnly,
    connection: validateConnection(o.connection),
    device: str('device'),
  };
  if (accessType === 'mount') {
    const fs = str('fsType');
    if (!isFsType(fs)) throw new Error(`fsType ${JSON.stringify(fs)} is not supported`);
    stash.fsType = fs;
    if (!Array.isArray(o.mountFlags) || !o.mountFlags.every((f) => typeof f === 'string')) throw new Error('mountFlags is missing');
    stash.mountFlags = o.mountFlags as string[];
  }
  if (typeof o.wwn === 'string' && o.wwn) stash.wwn = o.wwn;
  if (typeof o.attachmentId === 'string' && o.attachmentId) stash.attachmentId = o.attachmentId;
  return stash;
}
