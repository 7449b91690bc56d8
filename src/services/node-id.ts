import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { invalidArgument, notFound } from '../util/errors.js';

/**
 * The node id NodeGetInfo reports and the CO hands to ControllerPublish. Kubernetes stores it in
 * the immutable CSINode driver entry, so it must not change for the life of the node:
 *
 *   v2;<node name>;<key fingerprint>
 *
 * The fingerprint is that of the node's two public keys (the one secrets are sealed to and the
 * one its connector record is signed with). Everything that may change — IP, initiator IQN,
 * multipath — travels in the signed connector record (connector-record.ts), which the
 * controller checks against this fingerprint.
 *
 * Release 0.1.0 nodes reported `v1;<node name>;<storage ip>;<initiator or empty>;<X25519 key>`
 * with the facts inline. Such ids are still accepted, so volumes published to a node before its
 * plugin was upgraded keep working; they are never produced any more.
 */
export interface LegacyNodeIdentity {
  nodeName: string;
  ip: string;
  iqn?: string;
  publicKey: string;
}

export interface StableNodeIdentity {
  nodeName: string;
  fingerprint: string;
}

export type NodeIdentity = LegacyNodeIdentity | StableNodeIdentity;

export const NODE_ID_MAX_BYTES = 192;
const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const IQN = /^(iqn\.\d{4}-\d{2}\.[^\s;]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;
const KEY = /^[A-Za-z0-9_-]{43}$/;
const FINGERPRINT = /^[A-Za-z0-9_-]{32}$/;
const FINGERPRINT_DOMAIN = 'cinder-metal-csi node keys v2\0';

export function isStable(id: NodeIdentity): id is StableNodeIdentity {
  return 'fingerprint' in id;
}

/** 192 bits of SHA-256 over both raw public keys, base64url: 32 characters. */
export function keyFingerprint(sealKey: string, signKey: string): string {
  const digest = createHash('sha256')
    .update(FINGERPRINT_DOMAIN)
    .update(Buffer.from(sealKey, 'base64url'))
    .update(Buffer.from(signKey, 'base64url'))
    .digest();
  return digest.subarray(0, 24).toString('base64url');
}

export function formatNodeId(id: NodeIdentity): string {
  const text = isStable(id) ? formatStable(id) : formatLegacy(id);
  const size = Buffer.byteLength(text);
  if (size > NODE_ID_MAX_BYTES) {
    throw new Error(`the node id would be ${size} bytes, over the ${NODE_ID_MAX_BYTES}-byte limit; shorten the node name`);
  }
  return text;
}

function formatStable(id: StableNodeIdentity): string {
  checkName(id.nodeName, (m) => new Error(m));
  if (!FINGERPRINT.test(id.fingerprint)) throw new Error('the key fingerprint is not 32 base64url characters');
  return ['v2', id.nodeName, id.fingerprint].join(';');
}

function formatLegacy(id: LegacyNodeIdentity): string {
  checkLegacy(id, (m) => new Error(m));
  return ['v1', id.nodeName, id.ip, id.iqn ?? '', id.publicKey].join(';');
}

/**
 * Parses a node id the CO hands the controller. An id of an unknown format or version cannot
 * name a node this driver knows: NOT_FOUND, as the spec asks for an unknown node.
 */
export function parseNodeId(raw: string): NodeIdentity {
  if (raw === '') throw invalidArgument('node_id is required');
  const parts = raw.split(';');
  const unknown = (): Error =>
    notFound(`node_id ${JSON.stringify(raw.slice(0, 64))} is not a cinder-metal-csi node id (expected v2;<node name>;<key fingerprint>)`);
  if (parts[0] === 'v2' && parts.length === 3) {
    const [, nodeName = '', fingerprint = ''] = parts;
    checkName(nodeName, (m) => notFound(`node_id is malformed: ${m}`));
    if (!FINGERPRINT.test(fingerprint)) throw notFound('node_id is malformed: the key fingerprint is not 32 base64url characters');
    return { nodeName, fingerprint };
  }
  if (parts[0] === 'v1' && parts.length === 5) {
    const [, nodeName = '', ip = '', iqn = '', publicKey = ''] = parts;
    const id: LegacyNodeIdentity = { nodeName, ip, publicKey };
    if (iqn !== '') id.iqn = iqn;
    checkLegacy(id, (m) => notFound(`node_id is malformed: ${m}`));
    return id;
  }
  throw unknown();
}

function checkName(name: string, fail: (message: string) => Error): void {
  if (!NODE_NAME.test(name)) throw fail(`node name ${JSON.stringify(name)} is not a valid Kubernetes node name`);
}

function checkLegacy(id: LegacyNodeIdentity, fail: (message: string) => Error): void {
  checkName(id.nodeName, fail);
  if (isIP(id.ip) === 0) throw fail(`storage IP ${JSON.stringify(id.ip)} is not an IP address`);
  if (id.iqn !== undefined && !IQN.test(id.iqn)) throw fail(`initiator ${JSON.stringify(id.iqn)} is not an iSCSI name`);
  if (!KEY.test(id.publicKey)) throw fail('the node public key is not a 32-byte base64url X25519 key');
}
