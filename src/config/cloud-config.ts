import { readFile } from 'node:fs/promises';
import { parseIni, type IniSections } from './ini.js';

/**
 * cloud.conf (architecture §8): the keys cloud-provider-openstack users already have. Unknown keys and
 * missing required keys are errors naming the key and the file. Values of secret keys are never
 * part of an error message.
 */
export interface GlobalConfig {
  authUrl?: string;
  username?: string;
  userId?: string;
  password?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  region?: string;
  interface?: 'public' | 'internal' | 'admin';
  caFile?: string;
  tlsInsecure: boolean;
}

export interface BlockStorageConfig {
  authStrategy: 'keystone' | 'noauth';
  cinderEndpoint?: string;
  clusterId: string;
  nodeVolumeAttachLimit?: number;
  ignoreVolumeAz: boolean;
}

export interface CloudConfig {
  file: string;
  global: GlobalConfig;
  blockStorage: BlockStorageConfig;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CLUSTER_ID = 'kubernetes';

const GLOBAL_KEYS: Record<string, keyof GlobalConfig> = {
  'auth-url': 'authUrl',
  username: 'username',
  'user-id': 'userId',
  password: 'password',
  'user-domain-name': 'userDomainName',
  'user-domain-id': 'userDomainId',
  'project-name': 'projectName',
  'project-id': 'projectId',
  // cloud-provider-openstack's older names for the project
  'tenant-name': 'projectName',
  'tenant-id': 'projectId',
  'project-domain-name': 'projectDomainName',
  'project-domain-id': 'projectDomainId',
  'application-credential-id': 'applicationCredentialId',
  'application-credential-name': 'applicationCredentialName',
  'application-credential-secret': 'applicationCredentialSecret',
  region: 'region',
  interface: 'interface',
  'ca-file': 'caFile',
  'tls-insecure': 'tlsInsecure',
};

const BLOCK_STORAGE_KEYS = new Set([
  'auth-strategy',
  'cinder-endpoint',
  'cluster-id',
  'node-volume-attach-limit',
  'ignore-volume-az',
]);

export interface LoadOptions {
  /** Node plugins hold no cloud credentials: [Global] may be absent and must not carry secrets. */
  role: 'controller' | 'node';
}

export async function loadCloudConfig(file: string, options: LoadOptions): Promise<CloudConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${file}: cannot read the cloud config (${code})`);
  }
  return parseCloudConfig(text, file, options);
}

export function parseCloudConfig(text: string, file: string, options: LoadOptions): CloudConfig {
  let sections: IniSections;
  try {
    sections = parseIni(text, file);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  for (const name of sections.keys()) {
    if (name !== 'Global' && name !== 'BlockStorage') {
      throw new ConfigError(`${file}: unknown section [${name}] (expected [Global] and [BlockStorage])`);
    }
  }
  const global = readGlobal(sections, file);
  const blockStorage = readBlockStorage(sections, file);
  if (options.role === 'controller') checkControllerRequirements(global, blockStorage, file);
  else checkNodeHasNoCredentials(global, file);
  return { file, global, blockStorage };
}

function readGlobal(sections: IniSections, file: string): GlobalConfig {
  const out: GlobalConfig = { tlsInsecure: false };
  const section = sections.get('Global');
  if (!section) return out;
  for (const [key, entry] of section) {
    const field = GLOBAL_KEYS[key];
    if (!field) throw new ConfigError(`${file}:${entry.line}: unknown key "${key}" in [Global]`);
    if (field === 'tlsInsecure') out.tlsInsecure = parseBool(entry.value, key, file, entry.line);
    else if (field === 'interface') {
      if (entry.value !== 'public' && entry.value !== 'internal' && entry.value !== 'admin') {
        throw new ConfigError(`${file}:${entry.line}: "interface" must be public, internal or admin`);
      }
      out.interface = entry.value;
    } else if (field === 'authUrl') {
      out.authUrl = checkUrl(entry.value, key, file, entry.line);
    } else if (entry.value === '') {
      throw new ConfigError(`${file}:${entry.line}: "${key}" is empty`);
    } else {
      out[field] = entry.value;
    }
  }
  return out;
}

function readBlockStorage(sections: IniSections, file: string): BlockStorageConfig {
  const out: BlockStorageConfig = { authStrategy: 'keystone', clusterId: DEFAULT_CLUSTER_ID, ignoreVolumeAz: false };
  const section = sections.get('BlockStorage');
  if (!section) return out;
  for (const [key, entry] of section) {
    if (!BLOCK_STORAGE_KEYS.has(key)) throw new ConfigError(`${file}:${entry.line}: unknown key "${key}" in [BlockStorage]`);
    const v = entry.value;
    switch (key) {
      case 'auth-strategy':
        if (v !== 'keystone' && v !== 'noauth') {
          throw new ConfigError(`${file}:${entry.line}: "auth-strategy" must be keystone or noauth`);
        }
        out.authStrategy = v;
        break;
      case 'cinder-endpoint':
        out.cinderEndpoint = checkUrl(v, key, file, entry.line);
        break;
      case 'cluster-id':
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(v)) {
          throw new ConfigError(`${file}:${entry.line}: "cluster-id" must be 1-63 letters, digits, '.', '_' or '-'`);
        }
        out.clusterId = v;
        break;
      case 'node-volume-attach-limit': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 4096) {
          throw new ConfigError(`${file}:${entry.line}: "node-volume-attach-limit" must be a whole number from 1 to 4096`);
        }
        out.nodeVolumeAttachLimit = n;
        break;
      }
      case 'ignore-volume-az':
        out.ignoreVolumeAz = parseBool(v, key, file, entry.line);
        break;
    }
  }
  return out;
}

function checkControllerRequirements(g: GlobalConfig, b: BlockStorageConfig, file: string): void {
  const missing = (key: string, why: string): ConfigError =>
    new ConfigError(`${file}: missing required key "${key}" (${why})`);
  if (b.authStrategy === 'noauth') {
    if (!b.cinderEndpoint) throw missing('[BlockStorage] cinder-endpoint', 'auth-strategy is noauth');
    return;
  }
  if (!g.authUrl) throw missing('[Global] auth-url', 'auth-strategy is keystone');
  if (g.applicationCredentialId || g.applicationCredentialName || g.applicationCredentialSecret) {
    if (!g.applicationCredentialSecret) throw missing('[Global] application-credential-secret', 'an application credential is configured');
    if (!g.applicationCredentialId && !g.applicationCredentialName) {
      throw missing('[Global] application-credential-id', 'an application credential secret is configured');
    }
    if (!g.applicationCredentialId && !g.username && !g.userId) {
      throw missing('[Global] username', 'application-credential-name needs its user');
    }
    return;
  }
  if (!g.username && !g.userId) throw missing('[Global] username', 'password authentication');
  if (!g.password) throw missing('[Global] password', 'password authentication');
  if (!g.projectName && !g.projectId) throw missing('[Global] project-name', 'password authentication needs a project');
  if (g.username && !g.userDomainName && !g.userDomainId) {
    throw missing('[Global] user-domain-name', 'a user given by name needs its domain');
  }
  if (g.projectName && !g.projectDomainName && !g.projectDomainId) {
    throw missing('[Global] project-domain-name', 'a project given by name needs its domain');
  }
}

function checkNodeHasNoCredentials(g: GlobalConfig, file: string): void {
  for (const key of ['password', 'applicationCredentialSecret'] as const) {
    if (g[key]) {
      throw new ConfigError(
        `${file}: node plugins must not hold cloud credentials; remove the [Global] secret keys from the node's config`,
      );
    }
  }
}

function parseBool(v: string, key: string, file: string, line: number): boolean {
  const lower = v.toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(lower)) return true;
  if (['false', 'no', '0', 'off'].includes(lower)) return false;
  throw new ConfigError(`${file}:${line}: "${key}" must be true or false`);
}

function checkUrl(v: string, key: string, file: string, line: number): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${file}:${line}: "${key}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`${file}:${line}: "${key}" must be an http or https URL`);
  }
  return v.replace(/\/+$/, '');
}
