import { isIP } from 'node:net';
import { failedPrecondition } from '../../util/errors.js';
import { signText, verifyText, type SigningKeyPair } from '../../util/sign.js';
import { keyFingerprint, type StableNodeIdentity } from '../node-id.js';

/**
 * The connector record: what a node tells controllers about itself that may change during its
 * life (design: the node id stays stable, these facts do not). The node signs it with its
 * Ed25519 key; the controller accepts it only when the signature verifies and the two public keys
 * hash to the fingerprint in the node id the CO gave — so whoever can write the registry (a
 * Kubernetes Node annotation, a directory) can hide a node's record but not forge one.
 *
 * Wire form: JSON `{"record": "<the record's JSON text>", "signature": "<base64url>"}`, the
 * signature over the exact record text.
 */
export interface ConnectorFacts {
  /** The host name Cinder records for the attachment (the Kubernetes node name). */
  host: string;
  /** The storage network address. */
  ip?: string;
  /** The iSCSI initiator name, when the node has open-iscsi. */
  initiator?: string;
  /** Whether the node runs multipathd and wants every path. */
  multipath: boolean;
  /** os.machine(): x86_64, aarch64, … */
  platform: string;
  osType: string;
}

export interface ConnectorRecord {
  version: 1;
  nodeName: string;
  /** ISO time the node made this record; a controller logs it, e.g. to show a stale node. */
  issuedAt: string;
  /** The X25519 key secrets are sealed to (base64url, 32 bytes). */
  sealKey: string;
  /** The Ed25519 key that signed the record (base64url, 32 bytes). */
  signKey: string;
  facts: ConnectorFacts;
}

export function signRecord(record: ConnectorRecord, key: SigningKeyPair): string {
  const text = JSON.stringify(record);
  return JSON.stringify({ record: text, signature: signText(text, key) });
}

/** The record when it is this node's and untampered; FAILED_PRECONDITION naming the problem otherwise. */
export function verifyRecord(wire: string, node: StableNodeIdentity): ConnectorRecord {
  const bad = (why: string): Error => failedPrecondition(`the connector record of node ${node.nodeName} is not valid: ${why}`);
  let outer: unknown;
  try {
    outer = JSON.parse(wire);
  } catch {
    throw bad('not JSON');
  }
  const o = asObject(outer);
  if (!o || typeof o.record !== 'string' || typeof o.signature !== 'string') throw bad('record or signature missing');
  let inner: unknown;
  try {
    inner = JSON.parse(o.record);
  } catch {
    throw bad('the record is not JSON');
  }
  const r = asObject(inner);
  if (!r || r.version !== 1) throw bad('unknown version');
  const sealKey = str(r.sealKey);
  const signKey = str(r.signKey);
  if (!sealKey || !signKey) throw bad('keys missing');
  if (keyFingerprint(sealKey, signKey) !== node.fingerprint) {
    throw bad('its keys do not match the node id (was the node reinstalled? its node id changes with its keys)');
  }
  if (!verifyText(o.record, o.signature, signKey)) throw bad('the signature does not verify');
  if (r.nodeName !== node.nodeName) throw bad(`it names node ${JSON.stringify(r.nodeName)}`);
  const f = asObject(r.facts);
  if (!f) throw bad('facts missing');
  const facts: ConnectorFacts = {
    host: str(f.host) ?? node.nodeName,
    multipath: f.multipath === true,
    platform: str(f.platform) ?? 'x86_64',
    osType: str(f.osType) ?? 'linux2',
  };
  const ip = str(f.ip);
  if (ip !== undefined) {
    if (isIP(ip) === 0) throw bad('ip is not an IP address');
    facts.ip = ip;
  }
  const initiator = str(f.initiator);
  if (initiator !== undefined) facts.initiator = initiator;
  return { version: 1, nodeName: node.nodeName, issuedAt: str(r.issuedAt) ?? '', sealKey, signKey, facts };
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
