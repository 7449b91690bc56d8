import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';

/**
 * The node's signing key (Ed25519): it signs the connector record a node publishes (its IP,
 * initiator, multipath, …), so a controller can tell a record the node wrote from one anybody
 * with write access to the registry wrote. The node id carries a fingerprint of the public half.
 */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export interface SigningKeyPair {
  privateKey: KeyObject;
  /** The 32-byte raw public key, base64url (43 characters). */
  publicKey: string;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

export function signingKeyFromPem(pem: string): SigningKeyPair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the signing key is not an Ed25519 key');
  return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) };
}

export function signingKeyPem(pair: SigningKeyPair): string {
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Signature of the UTF-8 bytes of `data`, base64url. */
export function signText(data: string, pair: SigningKeyPair): string {
  return edSign(null, Buffer.from(data, 'utf8'), pair.privateKey).toString('base64url');
}

/** Whether `signature` is `publicKey`'s over `data`; false for anything malformed. */
export function verifyText(data: string, signature: string, publicKey: string): boolean {
  const raw = Buffer.from(publicKey, 'base64url');
  if (raw.length !== 32 || raw.toString('base64url') !== publicKey) return false;
  const sig = Buffer.from(signature, 'base64url');
  if (sig.length !== 64) return false;
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  return edVerify(null, Buffer.from(data, 'utf8'), key, sig);
}

function rawPublicKey(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).subarray(ED25519_SPKI_PREFIX.length).toString('base64url');
}
