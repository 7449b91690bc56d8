import type { GlobalConfig } from '../config/cloud-config.js';

/**
 * What the Cinder client needs to reach Keystone and Cinder: cloud.conf's [Global] keys as they
 * are (one definition, in src/config), plus the strategy and endpoint from [BlockStorage]. The
 * client never reads files itself except the CA bundle named by `caFile`; `tlsInsecure` makes it
 * log a warning.
 */
export interface CinderClientConfig extends Partial<GlobalConfig> {
  authStrategy: 'keystone' | 'noauth';
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
