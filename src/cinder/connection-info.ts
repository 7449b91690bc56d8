import { ADDRESSING_MODES, type AccessMode, type AddressingMode, type ChapCredentials, type ConnectionData, type IscsiConnection, type IscsiTarget, type LocalConnection, type RbdConnection } from '../brick/connection-data.js';
import { DriverError, type ErrorKind } from '../util/errors.js';

/**
 * Cinder's connection_info → the driver's ConnectionData (src/brick/connection-data.ts).
 *
 * Accepts the attachments API's flat shape (the backend's data merged with `driver_volume_type`,
 * `attachment_id`, `access_mode`, ...) and the legacy `{driver_volume_type, data}` of
 * os-initialize_connection. Supported: iscsi (single path and the multipath lists), rbd, local.
 * Errors name the driver_volume_type or the missing/invalid field — never a value of a secret
 * field (CHAP passwords): every message here is built from field names, and values are echoed
 * only for non-secret fields.
 */

export class ConnectionInfoError extends DriverError {
  constructor(kind: ErrorKind, message: string) {
    super(kind, `connection_info: ${message}`);
    this.name = 'ConnectionInfoError';
  }
}

const bad = (msg: string): ConnectionInfoError => new ConnectionInfoError('internal', msg);

type Rec = Record<string, unknown>;

function isRec(v: unknown): v is Rec {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Flattens the legacy shape; the flat shape passes through. */
function flatten(input: unknown): Rec {
  if (!isRec(input)) throw bad('not an object');
  if (isRec(input.data) && typeof input.driver_volume_type === 'string') {
    return { ...input.data, driver_volume_type: input.driver_volume_type };
  }
  return input;
}

function str(o: Rec, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(`${key} is not a string`);
  return v;
}

function reqStr(o: Rec, key: string, ctx: string): string {
  const v = str(o, key);
  if (v === undefined) throw bad(`${ctx}: ${key} is missing`);
  return v;
}

function lun(v: unknown, key: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw bad(`${key} must be a non-negative integer`);
  return n;
}

function bool(o: Rec, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw bad(`${key} is not a boolean`);
}

function accessMode(o: Rec): AccessMode {
  const v = o.access_mode;
  if (v === undefined || v === null || v === '') return 'rw';
  if (v === 'rw' || v === 'ro') return v;
  throw bad(`access_mode must be rw or ro, got ${JSON.stringify(v)}`);
}

/** host:port with a default port; IPv6 hosts in brackets. Rejects anything else. */
export function normalizePortal(portal: string, defaultPort: number, key: string): string {
  const p = portal.trim();
  let host: string;
  let port: string | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(p);
  if (v6) {
    host = `[${v6[1]}]`;
    port = v6[2];
  } else if ((p.match(/:/g) ?? []).length > 1) {
    // A bare IPv6 address: os-brick brackets it.
    if (!/^[0-9a-fA-F:.]+$/.test(p)) throw bad(`${key} ${JSON.stringify(portal)} is not host:port`);
    host = `[${p}]`;
  } else {
    const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(p);
    if (!m) throw bad(`${key} ${JSON.stringify(portal)} is not host:port`);
    host = m[1] as string;
    port = m[2];
  }
  const n = port === undefined ? defaultPort : Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw bad(`${key} ${JSON.stringify(portal)} has an invalid port`);
  return `${host}:${n}`;
}

const IQN = /^(iqn\.\d{4}-\d{2}\.[^\s]+|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$/;

function iqn(v: unknown, key: string): string {
  if (typeof v !== 'string' || !IQN.test(v)) throw bad(`${key} is not an iSCSI qualified name`);
  return v;
}

function chap(o: Rec, prefix: '' | 'discovery_'): ChapCredentials | undefined {
  const method = str(o, `${prefix}auth_method`);
  if (method === undefined || /^none$/i.test(method)) return undefined;
  // The value is not quoted: it sits next to secrets and a misplaced one must not leak.
  if (method.toUpperCase() !== 'CHAP') throw bad(`${prefix}auth_method is not supported (only CHAP is)`);
  const username = str(o, `${prefix}auth_username`);
  if (username === undefined) throw bad(`${prefix}auth_method is CHAP but ${prefix}auth_username is missing`);
  const pw = o[`${prefix}auth_password`];
  if (typeof pw !== 'string' || pw === '') throw bad(`${prefix}auth_method is CHAP but ${prefix}auth_password is missing`);
  return { method: 'CHAP', username, password: pw };
}

function listOf(o: Rec, key: string): unknown[] | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw bad(`${key} is not a list`);
  return v;
}

/** What the node asked for in its connector: multipath changes how the paths are read. */
export interface ParseOptions {
  multipath?: boolean;
}

function addressing(o: Rec): AddressingMode | undefined {
  const v = str(o, 'addressing_mode');
  if (v === undefined) return undefined;
  const mode = ADDRESSING_MODES.find((m) => m.toLowerCase() === v.toLowerCase());
  if (!mode) throw new ConnectionInfoError('precondition', `addressing_mode ${JSON.stringify(v.slice(0, 20))} is not supported (${ADDRESSING_MODES.join(', ')})`);
  return mode;
}

function parseIscsi(o: Rec, opts: ParseOptions): IscsiConnection {
  const portals = listOf(o, 'target_portals');
  let targets: IscsiTarget[];
  if (portals && portals.length > 0) {
    const iqns = listOf(o, 'target_iqns');
    const luns = listOf(o, 'target_luns');
    if (iqns && iqns.length !== portals.length) throw bad('target_iqns and target_portals differ in length');
    if (luns && luns.length !== portals.length) throw bad('target_luns and target_portals differ in length');
    const oneIqn = o.target_iqn;
    const oneLun = o.target_lun;
    targets = portals.map((p, i) => {
      if (typeof p !== 'string') throw bad(`target_portals[${i}] is not a string`);
      const q = iqns ? iqns[i] : oneIqn;
      if (q === undefined) throw bad('iscsi: target_iqns (or target_iqn) is missing');
      const l = luns ? luns[i] : oneLun;
      if (l === undefined) throw bad('iscsi: target_luns (or target_lun) is missing');
      return {
        portal: normalizePortal(p, 3260, `target_portals[${i}]`),
        iqn: iqn(q, iqns ? `target_iqns[${i}]` : 'target_iqn'),
        lun: lun(l, luns ? `target_luns[${i}]` : 'target_lun'),
      };
    });
    // Drop exact duplicates (some backends repeat the primary path in the lists).
    const seen = new Set<string>();
    targets = targets.filter((t) => {
      const k = `${t.portal}|${t.iqn}|${t.lun}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  } else {
    const portal = reqStr(o, 'target_portal', 'iscsi');
    if (o.target_iqn === undefined || o.target_iqn === null) throw bad('iscsi: target_iqn is missing');
    if (o.target_lun === undefined || o.target_lun === null) throw bad('iscsi: target_lun is missing');
    targets = [{ portal: normalizePortal(portal, 3260, 'target_portal'), iqn: iqn(o.target_iqn, 'target_iqn'), lun: lun(o.target_lun, 'target_lun') }];
  }
  // A node that asked for multipath uses it even for one path (more may join; os-brick does the
  // same). When the backend gave no path lists, the other paths are found by sendtargets.
  const multipath = opts.multipath ?? targets.length > 1;
  const out: IscsiConnection = {
    type: 'iscsi',
    targets,
    multipath,
    accessMode: accessMode(o),
  };
  if (multipath && !(portals && portals.length > 0 && listOf(o, 'target_iqns'))) out.discovery = true;
  const mode = addressing(o);
  if (mode) out.addressingMode = mode;
  const auth = chap(o, '');
  if (auth) out.auth = auth;
  const discoveryAuth = chap(o, 'discovery_');
  if (discoveryAuth) out.discoveryAuth = discoveryAuth;
  const discard = bool(o, 'discard');
  if (discard !== undefined) out.discard = discard;
  return out;
}

function parseRbd(o: Rec): RbdConnection {
  const name = reqStr(o, 'name', 'rbd');
  const parts = name.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw bad(`rbd: name ${JSON.stringify(name)} is not pool/image`);
  const hosts = listOf(o, 'hosts') ?? [];
  const ports = listOf(o, 'ports') ?? [];
  if (hosts.length === 0) throw bad('rbd: hosts is missing or empty');
  if (ports.length !== 0 && ports.length !== hosts.length) throw bad('rbd: hosts and ports differ in length');
  const monitors = hosts.map((h, i) => {
    if (typeof h !== 'string' || h === '') throw bad(`rbd: hosts[${i}] is not a string`);
    const port = ports.length ? ports[i] : '6789';
    const p = typeof port === 'number' ? String(port) : port;
    if (typeof p !== 'string' || !/^\d+$/.test(p)) throw bad(`rbd: ports[${i}] is not a port number`);
    const host = h.includes(':') && !h.startsWith('[') ? `[${h}]` : h;
    return normalizePortal(`${host}:${p}`, 6789, `hosts[${i}]`);
  });
  const authEnabled = bool(o, 'auth_enabled');
  let user = str(o, 'auth_username');
  if (user === undefined) {
    if (authEnabled === false) user = 'admin';
    else throw bad('rbd: auth_username is missing');
  }
  user = user.replace(/^client\./, '');
  const out: RbdConnection = {
    type: 'rbd',
    pool: parts[0],
    image: parts[1],
    monitors,
    user,
    clusterName: str(o, 'cluster_name') ?? 'ceph',
    accessMode: accessMode(o),
  };
  const discard = bool(o, 'discard');
  if (discard !== undefined) out.discard = discard;
  return out;
}

function parseLocal(o: Rec): LocalConnection {
  const devicePath = reqStr(o, 'device_path', 'local');
  if (!devicePath.startsWith('/') || devicePath.split('/').includes('..')) throw bad('local: device_path must be an absolute path without ..');
  return { type: 'local', devicePath, accessMode: accessMode(o) };
}

/**
 * Validates and converts. Throws ConnectionInfoError: FAILED_PRECONDITION for a transport this
 * driver cannot attach (naming it), INTERNAL for a malformed body (naming the field).
 */
export function parseConnectionInfo(input: unknown, opts: ParseOptions = {}): ConnectionData {
  const o = flatten(input);
  const type = o.driver_volume_type;
  if (typeof type !== 'string' || type === '') {
    if (isRec(input) && Object.keys(input).length === 0) throw bad('empty (the attachment has no connector yet?)');
    throw bad('driver_volume_type is missing');
  }
  switch (type.toLowerCase()) {
    case 'iscsi':
      return parseIscsi(o, opts);
    case 'rbd':
      return parseRbd(o);
    case 'local':
      return parseLocal(o);
    default:
      throw new ConnectionInfoError(
        'precondition',
        `driver_volume_type ${JSON.stringify(type.slice(0, 40))} is not supported by this driver (supported: iscsi, rbd, local)`,
      );
  }
}
