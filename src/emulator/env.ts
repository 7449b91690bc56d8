import type { BackendSettings } from './backends.js';
import type { FaultEngine } from './faults.js';
import type { ApiRequest, ApiResponse } from './http.js';
import type { IdentityStore } from './identity.js';
import type { Lifecycle } from './lifecycle.js';
import type { Version } from './microversion.js';
import type { StatsRecorder } from './stats.js';
import type { Store } from './state.js';

/** Everything a handler may use, created once per emulator by server.ts. */
export interface Env {
  store: Store;
  identity: IdentityStore;
  lifecycle: Lifecycle;
  faults: FaultEngine;
  stats: StatsRecorder;
  stateDir: string;
  zones: string[];
  backends: BackendSettings;
  maxVersion: Version;
  defaultQuotas: Record<string, number>;
}

/** Who is calling Cinder and at which microversion (cinder.context.RequestContext, reduced). */
export interface CinderContext {
  userId: string;
  projectId: string;
  roles: string[];
  isAdmin: boolean;
  version: Version;
}

export type CinderHandler = (req: ApiRequest, ctx: CinderContext, env: Env) => ApiResponse | Promise<ApiResponse>;
