/**
 * What the Cinder client needs to reach Keystone and Cinder. The lead's config loader maps
 * cloud.conf ([Global] + [BlockStorage]) onto this shape; the client never reads files itself
 * except the CA bundle named by `caFile`.
 */
export interface CinderClientConfig {
  authStrategy: 'keystone' | 'noauth';
  /** Keystone URL, with or without the trailing `/v3`. */
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
  /** Catalog region; without it the first endpoint of the wanted interface is used. */
  region?: string;
  /** Catalog interface; default `public`. */
  interface?: 'public' | 'internal' | 'admin';
  /** PEM bundle trusted for Keystone and Cinder (in addition to nothing: it replaces the defaults). */
  caFile?: string;
  /** Skip TLS verification. Only when asked; the client logs a warning. */
  tlsInsecure?: boolean;
  /**
   * noauth: the Cinder endpoint (e.g. `http://cinder:8776/v3/<project>`), required.
   * keystone: overrides the catalog; `%(project_id)s` / `$(project_id)s` are substituted.
   */
  cinderEndpoint?: string;
  /** Upper bound of one HTTP attempt, whatever the caller's deadline; default 30 s. */
  requestTimeoutMs?: number;
}

/** Thrown at construction for a config the client cannot work with; names the key, never a value. */
export class InvalidClientConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidClientConfigError';
  }
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
