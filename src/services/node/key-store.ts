import { chmod, link, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSyncedTemp } from '../../host/atomic-file.js';
import { generateNodeKeyPair, keyPairFromPem, privateKeyPem, type NodeKeyPair } from '../../util/seal.js';
import { generateSigningKeyPair, signingKeyFromPem, signingKeyPem, type SigningKeyPair } from '../../util/sign.js';

/** The file holding the node's X25519 private key, under the plugin's state directory. */
export const NODE_KEY_FILE = 'node.key';
/** The file holding the node's Ed25519 signing key, beside it. */
export const NODE_SIGNING_KEY_FILE = 'node-sign.key';

/** Both keys of a node: one secrets are sealed to, one its connector record is signed with. */
export interface NodeKeys {
  seal: NodeKeyPair;
  sign: SigningKeyPair;
}

interface KeyKind<K> {
  file: string;
  what: string;
  generate: () => K;
  parse: (pem: string) => K;
  pem: (k: K) => string;
}

const SEALING: KeyKind<NodeKeyPair> = { file: NODE_KEY_FILE, what: 'an X25519', generate: generateNodeKeyPair, parse: keyPairFromPem, pem: privateKeyPem };
const SIGNING: KeyKind<SigningKeyPair> = {
  file: NODE_SIGNING_KEY_FILE,
  what: 'an Ed25519',
  generate: generateSigningKeyPair,
  parse: signingKeyFromPem,
  pem: signingKeyPem,
};

export async function loadOrCreateNodeKeys(stateDir: string): Promise<NodeKeys> {
  const seal = await loadOrCreateNodeKey(stateDir);
  return { seal, sign: await loadOrCreate(stateDir, SIGNING) };
}

/**
 * The node's sealing key (architecture §4): made once, then reused across restarts — controllers seal
 * CHAP passwords to the public half carried in the node id, so a new key would make every
 * publish_context already stored in VolumeAttachments unreadable.
 *
 * The key must never be readable by others: the state dir is 0700, the file 0600, and it is
 * written to a temporary file opened 0600 and linked into place, so a crash mid-write never
 * leaves a half-written key that the next start would trip over.
 */
export async function loadOrCreateNodeKey(stateDir: string): Promise<NodeKeyPair> {
  return loadOrCreate(stateDir, SEALING);
}

async function loadOrCreate<K>(stateDir: string, kind: KeyKind<K>): Promise<K> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  // mkdir's mode only applies to a directory it creates; an existing one is tightened too.
  await chmod(stateDir, 0o700);
  const path = join(stateDir, kind.file);
  const existing = await readIfPresent(path);
  if (existing !== undefined) return parseKey(existing, path, kind);
  const pair = kind.generate();
  if (await writeAtomically(path, kind.pem(pair))) return pair;
  // Another process (a second container of the same plugin) made the key first: use theirs.
  return parseKey((await readIfPresent(path)) ?? '', path, kind);
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new Error(`the node key ${path} is not a regular file`);
    // A key others could read may have leaked: tighten it rather than keep serving with it silently open.
    if ((s.mode & 0o077) !== 0) await chmod(path, 0o600);
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function parseKey<K>(pem: string, path: string, kind: KeyKind<K>): K {
  try {
    return kind.parse(pem);
  } catch (err) {
    // Never replace a corrupt key silently: volumes published with the old public key would
    // then fail later with an obscure "cannot open" instead of here, at start, by name.
    throw new Error(
      `the node key ${path} is corrupt or not ${kind.what} PKCS#8 PEM key (${(err as Error).message}); ` +
        'delete it to make a new one (volumes published to this node must then be re-published)',
      { cause: err },
    );
  }
}

/** Writes the file unless it exists; false when another writer got there first. */
async function writeAtomically(path: string, content: string): Promise<boolean> {
  // Mode 0600 from creation: the secret is never on disk with wider permissions.
  const tmp = await writeSyncedTemp(path, content, 0o600);
  try {
    // link, not rename: it never replaces a key another process wrote meanwhile.
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}
