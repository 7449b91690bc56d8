import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/**
 * Sealing secrets to one node (architecture §4): the controller puts CHAP passwords into
 * publish_context, which Kubernetes stores in VolumeAttachment status and sidecars log. So they
 * are encrypted to the node's X25519 public key: an ephemeral X25519 key pair, ECDH, HKDF-SHA256,
 * AES-256-GCM. Only the holder of the node's private key can open them, and the associated data
 * binds a sealed value to its purpose (volume id) so it cannot be replayed for another volume.
 *
 * Wire format: "s1." + base64url( ephemeralPublic(32) | nonce(12) | ciphertext | tag(16) ).
 */
const PREFIX = 's1.';
const INFO = Buffer.from('cinder-metal-csi seal v1');
// DER prefix of an X25519 SubjectPublicKeyInfo; the 32 raw key bytes follow it.
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface NodeKeyPair {
  privateKey: KeyObject;
  /** The 32-byte raw public key, base64url (43 characters): what the node id carries. */
  publicKey: string;
}

export function generateNodeKeyPair(): NodeKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

export function keyPairFromPem(pem: string): NodeKeyPair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'x25519') throw new Error('the node key is not an X25519 key');
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

export function privateKeyPem(pair: NodeKeyPair): string {
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function rawPublicKey(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(X25519_SPKI_PREFIX.length).toString('base64url');
}

export function publicKeyFromRaw(raw: string): KeyObject {
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length !== 32 || bytes.toString('base64url') !== raw) throw new Error('not a 32-byte base64url X25519 public key');
  return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
}

function deriveKey(shared: Buffer, ephemeralRaw: Buffer, recipientRaw: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralRaw, recipientRaw]), INFO, 32));
}

/** Encrypts `plaintext` so that only the holder of `recipientPublicKey`'s private key can read it. */
export function seal(plaintext: string, recipientPublicKey: string, associatedData: string): string {
  const recipient = publicKeyFromRaw(recipientPublicKey);
  const eph = generateKeyPairSync('x25519');
  const ephRaw = Buffer.from(rawPublicKey(eph.publicKey), 'base64url');
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: recipient });
  const key = deriveKey(shared, ephRaw, Buffer.from(recipientPublicKey, 'base64url'));
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(associatedData));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([ephRaw, nonce, body, cipher.getAuthTag()]).toString('base64url');
}

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/** Opens a sealed value; throws SealError when it was not sealed to this key or was altered. */
export function open(sealed: string, pair: NodeKeyPair, associatedData: string): string {
  if (!sealed.startsWith(PREFIX)) throw new SealError('sealed value has an unknown format');
  const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  if (bytes.length < 32 + 12 + 16) throw new SealError('sealed value is truncated');
  const ephRaw = bytes.subarray(0, 32);
  const nonce = bytes.subarray(32, 44);
  const tag = bytes.subarray(bytes.length - 16);
  const body = bytes.subarray(44, bytes.length - 16);
  try {
    const shared = diffieHellman({ privateKey: pair.privateKey, publicKey: publicKeyFromRaw(ephRaw.toString('base64url')) });
    const key = deriveKey(shared, ephRaw, Buffer.from(pair.publicKey, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new SealError('sealed value cannot be opened with this node key (sealed for another node, or altered)');
  }
}
