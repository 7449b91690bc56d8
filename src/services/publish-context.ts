import { ADDRESSING_MODES, type AddressingMode, type ChapCredentials, type ConnectionData } from '../brick/connection-data.js';
import { invalidArgument } from '../util/errors.js';
import { open, seal, SealError, type NodeKeyPair } from '../util/seal.js';

/**
 * publish_context: what ControllerPublish hands the node through Kubernetes (architecture §4). The
 * connection data travels readable except its secrets, which are sealed to the node's key and
 * bound to the volume id. Keys:
 *   connection   – JSON of the ConnectionData with every password emptied
 *   sealed       – the passwords, sealed (only when there are any)
 *   attachmentId – the Cinder attachment this publish created or reused
 */
export const CTX_CONNECTION = 'connection';
export const CTX_SEALED = 'sealed';
export const CTX_ATTACHMENT = 'attachmentId';
export const PUBLISH_CONTEXT_MAX_BYTES = 4096;

interface SealedSecrets {
  auth?: string;
  discoveryAuth?: string;
}

export function encodePublishContext(
  conn: ConnectionData,
  attachmentId: string,
  volumeId: string,
  nodePublicKey: string,
): Record<string, string> {
  const readable = structuredClone(conn);
  const secrets: SealedSecrets = {};
  if (readable.type === 'iscsi') {
    if (readable.auth) {
      secrets.auth = readable.auth.password;
      readable.auth.password = '';
    }
    if (readable.discoveryAuth) {
      secrets.discoveryAuth = readable.discoveryAuth.password;
      readable.discoveryAuth.password = '';
    }
  }
  const ctx: Record<string, string> = {
    [CTX_CONNECTION]: JSON.stringify(readable),
    [CTX_ATTACHMENT]: attachmentId,
  };
  if (Object.keys(secrets).length > 0) ctx[CTX_SEALED] = seal(JSON.stringify(secrets), nodePublicKey, volumeId);
  const size = Object.entries(ctx).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (size > PUBLISH_CONTEXT_MAX_BYTES) {
    throw new Error(`publish_context would be ${size} bytes, over the ${PUBLISH_CONTEXT_MAX_BYTES}-byte limit`);
  }
  return ctx;
}

export interface DecodedPublishContext {
  connection: ConnectionData;
  attachmentId?: string;
}

/** Node side: validates the readable part and opens the sealed part with this node's key. */
export function decodePublishContext(
  ctx: Record<string, string> | undefined,
  volumeId: string,
  key: NodeKeyPair,
): DecodedPublishContext {
  const raw = ctx?.[CTX_CONNECTION];
  if (!raw) throw invalidArgument(`publish_context.${CTX_CONNECTION} is required (was the volume published by this driver?)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidArgument(`publish_context.${CTX_CONNECTION} is not JSON`);
  }
  const connection = validateConnection(parsed);
  const sealedText = ctx?.[CTX_SEALED];
  if (connection.type === 'iscsi' && (connection.auth || connection.discoveryAuth)) {
    if (!sealedText) throw invalidArgument(`publish_context.${CTX_SEALED} is missing although the target uses CHAP`);
    let secrets: SealedSecrets;
    try {
      secrets = JSON.parse(open(sealedText, key, volumeId)) as SealedSecrets;
    } catch (err) {
      if (err instanceof SealError) {
        throw invalidArgument(`publish_context.${CTX_SEALED}: ${err.message}; was the volume published to another node?`);
      }
      throw invalidArgument(`publish_context.${CTX_SEALED} does not hold the expected secrets`);
    }
    if (connection.auth) connection.auth.password = requireString(secrets.auth, 'sealed CHAP password');
    if (connection.discoveryAuth) {
      connection.discoveryAuth.password = requireString(secrets.discoveryAuth, 'sealed discovery CHAP password');
    }
  }
  const out: DecodedPublishContext = { connection };
  const attachmentId = ctx?.[CTX_ATTACHMENT];
  if (attachmentId) out.attachmentId = attachmentId;
  return out;
}

/** Validation of the connection JSON: a parsed boundary, so every field is checked. */
export function validateConnection(v: unknown): ConnectionData {
  const o = asObject(v, 'connection');
  const accessMode = o.accessMode === 'ro' ? 'ro' : o.accessMode === 'rw' ? 'rw' : fail('connection.accessMode');
  switch (o.type) {
    case 'local':
      return { type: 'local', devicePath: absolutePath(o.devicePath, 'connection.devicePath'), accessMode };
    case 'rbd': {
      const monitors = Array.isArray(o.monitors) ? o.monitors.map((m, i) => requireString(m, `connection.monitors[${i}]`)) : fail('connection.monitors');
      return {
        type: 'rbd',
        pool: requireString(o.pool, 'connection.pool'),
        image: requireString(o.image, 'connection.image'),
        monitors,
        user: requireString(o.user, 'connection.user'),
        clusterName: requireString(o.clusterName, 'connection.clusterName'),
        accessMode,
        ...(typeof o.discard === 'boolean' ? { discard: o.discard } : {}),
      };
    }
    case 'iscsi': {
      if (!Array.isArray(o.targets) || o.targets.length === 0) fail('connection.targets');
      const targets = (o.targets as unknown[]).map((t, i) => {
        const to = asObject(t, `connection.targets[${i}]`);
        const lun = to.lun;
        if (typeof lun !== 'number' || !Number.isInteger(lun) || lun < 0) fail(`connection.targets[${i}].lun`);
        return {
          portal: requireString(to.portal, `connection.targets[${i}].portal`),
          iqn: requireString(to.iqn, `connection.targets[${i}].iqn`),
          lun: lun as number,
        };
      });
      const conn: ConnectionData = { type: 'iscsi', targets, multipath: o.multipath === true, accessMode };
      if (o.auth !== undefined) conn.auth = chap(o.auth, 'connection.auth');
      if (o.discoveryAuth !== undefined) conn.discoveryAuth = chap(o.discoveryAuth, 'connection.discoveryAuth');
      if (typeof o.sharedTargets === 'boolean') conn.sharedTargets = o.sharedTargets;
      if (typeof o.discard === 'boolean') conn.discard = o.discard;
      if (o.discovery === true) conn.discovery = true;
      if (o.addressingMode !== undefined) {
        if (!ADDRESSING_MODES.includes(o.addressingMode as AddressingMode)) fail('connection.addressingMode');
        conn.addressingMode = o.addressingMode as AddressingMode;
      }
      return conn;
    }
    default:
      return fail('connection.type');
  }
}

function chap(v: unknown, field: string): ChapCredentials {
  const o = asObject(v, field);
  if (o.method !== 'CHAP') fail(`${field}.method`);
  return { method: 'CHAP', username: requireString(o.username, `${field}.username`), password: typeof o.password === 'string' ? o.password : '' };
}

function asObject(v: unknown, field: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) fail(field);
  return v as Record<string, unknown>;
}

function requireString(v: unknown, field: string): string {
  if (typeof v !== 'string' || v === '') fail(field);
  return v as string;
}

function absolutePath(v: unknown, field: string): string {
  const s = requireString(v, field);
  if (!s.startsWith('/') || s.split('/').includes('..')) fail(field);
  return s;
}

function fail(field: string): never {
  throw invalidArgument(`publish_context: ${field} is missing or invalid`);
}
