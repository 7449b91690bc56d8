import { isIP } from 'node:net';
import { invalidArgument, notFound } from '../util/errors.js';

/**
 * The node id (design §3): on bare metal there is no Nova instance to ask, so NodeGetInfo tells
 * the controller everything Cinder needs to export a volume to this node, plus the key that
 * secrets are sealed to. Grammar, fields separated by ';' (no field may contain one):
 *
 *   v1;<node name>;<storage ip>;<initiator iqn or empty>;<X25519 public key, base64url>
 */
export interface NodeIdentity {
  nodeName: string;
  ip: string;
  iqn?: string;
  publicKey: string;
}

export const NODE_ID_MAX_BYTES = 192;
const NODE_NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const IQN = /^(iqn\.\d{4}-\d{2}\.[^\s;]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;
const KEY = /^[A-Za-z0-9_-]{43}$/;

export function formatNodeId(id: NodeIdentity): string {
  checkFields(id, (m) => new Error(m));
  const text = ['v1', id.nodeName, id.ip, id.iqn ?? '', id.publicKey].join(';');
  const size = Buffer.byteLength(text);
  if (size > NODE_ID_MAX_BYTES) {
    throw new Error(
      `the node id would be ${size} bytes, over the ${NODE_ID_MAX_BYTES}-byte limit; shorten the node name or the initiator IQN`,
    );
  }
  return text;
}

/**
 * Parses a node id the CO hands the controller. An id of an unknown format or version cannot
 * name a node this driver knows: NOT_FOUND, as the spec asks for an unknown node.
 */
export function parseNodeId(raw: string): NodeIdentity {
  if (raw === '') throw invalidArgument('node_id is required');
  const parts = raw.split(';');
  if (parts[0] !== 'v1' || parts.length !== 5) {
    throw notFound(`node_id ${JSON.stringify(raw.slice(0, 64))} is not a cinder-metal-csi node id (expected v1;name;ip;iqn;key)`);
  }
  const [, nodeName = '', ip = '', iqn = '', publicKey = ''] = parts;
  const id: NodeIdentity = { nodeName, ip, publicKey };
  if (iqn !== '') id.iqn = iqn;
  checkFields(id, (m) => notFound(`node_id is malformed: ${m}`));
  return id;
}

function checkFields(id: NodeIdentity, fail: (message: string) => Error): void {
  if (!NODE_NAME.test(id.nodeName)) throw fail(`node name ${JSON.stringify(id.nodeName)} is not a valid Kubernetes node name`);
  if (isIP(id.ip) === 0) throw fail(`storage IP ${JSON.stringify(id.ip)} is not an IP address`);
  if (id.iqn !== undefined && !IQN.test(id.iqn)) throw fail(`initiator ${JSON.stringify(id.iqn)} is not an iSCSI name`);
  if (!KEY.test(id.publicKey)) throw fail('the node public key is not a 32-byte base64url X25519 key');
}
