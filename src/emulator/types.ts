/**
 * Public types of the emulator. Other parts of the project (tests, the demo, benchmarks) depend on
 * these names, so they live apart from the implementation and change only on purpose.
 */
import type { SeedOptions } from './seed.js';

/** A Keystone user. The project is created on first mention; roles default to member (+ implied reader). */
export interface EmulatorUser {
  name: string;
  password: string;
  /** Domain name of the user (default "Default", id "default"). */
  domain?: string;
  /** Project name the user has its roles on (and is scoped to by default). */
  project: string;
  /** Domain name of the project (default "Default"). */
  projectDomain?: string;
  /** Role names on the project; "admin" makes Cinder treat the user as an admin. Default ["member"]. */
  roles?: string[];
}

/** Fault knobs for one route (or, at the top level of FaultConfig, for every Cinder route). */
export interface RouteFaults {
  /** Added before the request is handled. Global and per-route latencies add up. */
  latencyMs?: number;
  /** Fraction (0..1) of matching requests answered with `errorStatus` instead of being handled. */
  errorRate?: number;
  /** The next N matching requests are answered with `errorStatus` (deterministic variant of errorRate). */
  failNext?: number;
  /** Status used by errorRate/failNext: 500 (computeFault, default) or 503 (serviceUnavailable), or any 5xx. */
  errorStatus?: number;
  /** `true`: every matching request is accepted and never answered; N: the next N are. */
  hang?: boolean | number;
  /** The next `count` matching requests (every one when count is absent) are answered 413/429 with Retry-After. */
  rateLimit?: { count?: number; status?: 413 | 429; retryAfterSeconds?: number };
  /** The next N matching non-GET requests are executed, then the connection is destroyed without a reply. */
  loseReplyAfterCommit?: number;
}

/** States an object can be kept in forever by the `stuck` fault. */
export type StuckState = 'creating' | 'extending' | 'deleting' | 'retyping';

export interface FaultConfig extends RouteFaults {
  /**
   * Per-route faults, keyed "METHOD /template" as in the stats (e.g. "POST /volumes",
   * "GET /volumes/detail", "POST /volumes/{id}/action", "DELETE /attachments/{id}",
   * Keystone's "POST /v3/auth/tokens"). "*" as the method matches every method.
   */
  routes?: Record<string, RouteFaults>;
  /** Objects never leave these states: `true` = every transitional state, or a list of states. */
  stuck?: { volumes?: boolean | StuckState[]; snapshots?: boolean | StuckState[] };
  /** New volumes/snapshots end in `error` instead of `available`: `true` = all, N = the next N. */
  errorOnCreate?: { volumes?: boolean | number; snapshots?: boolean | number };
  /** Extends end in `error_extending`: `true` = all, N = the next N. */
  errorOnExtend?: boolean | number;
  /** Tokens stop being accepted by Cinder this many seconds after they were issued (expires_at is not changed). */
  tokenExpirySeconds?: number;
}

export interface TransitionRecord {
  kind: 'volume' | 'snapshot' | 'backup' | 'group' | 'group_snapshot' | 'attachment';
  id: string;
  /** null when the object was created. */
  from: string | null;
  /** "deleted" when the object disappeared. */
  to: string;
  /** Epoch milliseconds with sub-millisecond precision (performance.timeOrigin + performance.now()). */
  at: number;
}

export interface EmulatorStats {
  /** When the stats were (re)started, epoch ms. */
  since: number;
  /** Cinder requests per route template, e.g. "GET /volumes/detail", "POST /volumes/{id}/action". */
  requests: Record<string, number>;
  /** Cinder action requests per action name, e.g. "os-extend", "os-complete". */
  actions: Record<string, number>;
  /** Keystone requests per route template, e.g. "POST /v3/auth/tokens". */
  keystoneRequests: Record<string, number>;
  /** Responses per HTTP status (both ports). */
  responses: Record<string, number>;
  /** Injected faults per kind: latency, error, hang, rateLimit, loseReply, stuck, errorOnCreate, errorOnExtend, tokenExpiry. */
  faults: Record<string, number>;
  /** Status transitions per object id, oldest first. */
  transitions: Record<string, TransitionRecord[]>;
}

export interface EmulatorVolumeType {
  name: string;
  description?: string;
  /** e.g. { volume_backend_name: "iscsi" } or { multiattach: "<is> True" }. */
  extraSpecs?: Record<string, string>;
}

/** Quota limits of a project (-1 = unlimited). Defaults are Cinder's. */
export interface EmulatorQuotas {
  volumes?: number;
  snapshots?: number;
  gigabytes?: number;
  backups?: number;
  backup_gigabytes?: number;
  groups?: number;
  per_volume_gigabytes?: number;
}

export interface EmulatorOptions {
  /** Cinder port, 0 = ephemeral (default 0). */
  port?: number;
  /** When set (0 = ephemeral) a Keystone v3 is served too and Cinder requires its tokens; when undefined Cinder runs in noauth mode. */
  keystonePort?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Applied to every asynchronous status transition (default 0: still asynchronous, on a later tick). */
  delayMs?: number;
  /** Where the `local` backend keeps sparse files; default a fresh temp dir removed on stop(). */
  stateDir?: string;
  /** Initial faults. */
  faults?: FaultConfig;
  /** Default "3.70". */
  maxMicroversion?: string;
  /** Keystone users; default one user (DEFAULT_USER). The first user's project gets `projectId`. */
  users?: EmulatorUser[];
  /** Default 3600. */
  tokenTtlSeconds?: number;
  /** Hex project id of the first user's project (and of noauth examples). Default 0123456789abcdef0123456789abcdef. */
  projectId?: string;
  /** Availability zones; the first one is the default for new volumes. Default ["nova"]. */
  zones?: string[];
  /** Volume types added to the built-in ones (__DEFAULT__, local, iscsi, iscsi-discovery-chap, rbd, multiattach). */
  volumeTypes?: EmulatorVolumeType[];
  /** Default quotas of every project (Cinder's defaults otherwise: 10 volumes, 10 snapshots, 1000 GiB). */
  quotas?: EmulatorQuotas;
  /** iSCSI portals handed out (the first one is target_portal; all of them with multipath). Default 127.0.0.1:3260, 127.0.0.2:3260. */
  iscsiPortals?: string[];
  /** Pre-existing available volumes put into the first user's project at start (seed.ts). */
  seedVolumes?: SeedOptions & { count: number };
}

export interface RunningEmulator {
  /** http://HOST:PORT, the version document root. */
  cinderUrl: string;
  /** http://HOST:PORT/v3/<project id>, what a noauth configuration uses. */
  cinderEndpoint: string;
  /** http://HOST:PORT/v3 when Keystone is served. */
  keystoneUrl?: string;
  projectId: string;
  /** The directory holding the `local` backend's files. */
  stateDir: string;
  setFaults(f: FaultConfig): void;
  stats(): EmulatorStats;
  resetStats(): void;
  createApplicationCredential(userName: string, name: string): { id: string; secret: string };
  /** Every issued token becomes invalid (Cinder answers 401). */
  expireTokens(): void;
  stop(): Promise<void>;
}
