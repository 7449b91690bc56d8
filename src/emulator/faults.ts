import type { FaultConfig, RouteFaults, StuckState } from './types.js';

/**
 * Fault injection. The configuration is plain JSON (start options, setFaults, PUT /_emulator/faults,
 * --faults FILE). Counted knobs (failNext, hang: N, rateLimit.count, loseReplyAfterCommit,
 * errorOnCreate: N, errorOnExtend: N) are consumed as requests match, so tests are deterministic;
 * setting a new configuration restarts every counter.
 */

export class FaultConfigError extends Error {}

const ROUTE_KEYS = ['latencyMs', 'errorRate', 'failNext', 'errorStatus', 'hang', 'rateLimit', 'loseReplyAfterCommit'];
const TOP_KEYS = [...ROUTE_KEYS, 'routes', 'stuck', 'errorOnCreate', 'errorOnExtend', 'tokenExpirySeconds'];
const STUCK_STATES: StuckState[] = ['creating', 'extending', 'deleting', 'retyping'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(where: string, obj: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new FaultConfigError(`${where}: unknown fault "${k}" (known: ${allowed.join(', ')})`);
  }
}

function nonNegInt(where: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new FaultConfigError(`${where} must be a non-negative integer`);
  return v;
}

function nonNegNumber(where: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FaultConfigError(`${where} must be a non-negative number`);
  return v;
}

function boolOrCount(where: string, v: unknown): boolean | number | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  return nonNegInt(where, v);
}

function validateRoute(where: string, raw: Record<string, unknown>, allowed: string[]): RouteFaults {
  checkKeys(where, raw, allowed);
  const out: RouteFaults = {};
  const latencyMs = nonNegNumber(`${where}.latencyMs`, raw.latencyMs);
  if (latencyMs !== undefined) out.latencyMs = latencyMs;
  const errorRate = nonNegNumber(`${where}.errorRate`, raw.errorRate);
  if (errorRate !== undefined) {
    if (errorRate > 1) throw new FaultConfigError(`${where}.errorRate must be between 0 and 1`);
    out.errorRate = errorRate;
  }
  const failNext = nonNegInt(`${where}.failNext`, raw.failNext);
  if (failNext !== undefined) out.failNext = failNext;
  const errorStatus = nonNegInt(`${where}.errorStatus`, raw.errorStatus);
  if (errorStatus !== undefined) {
    if (errorStatus < 500 || errorStatus > 599) throw new FaultConfigError(`${where}.errorStatus must be a 5xx status`);
    out.errorStatus = errorStatus;
  }
  const hang = boolOrCount(`${where}.hang`, raw.hang);
  if (hang !== undefined) out.hang = hang;
  if (raw.rateLimit !== undefined) {
    if (!isRecord(raw.rateLimit)) throw new FaultConfigError(`${where}.rateLimit must be an object`);
    checkKeys(`${where}.rateLimit`, raw.rateLimit, ['count', 'status', 'retryAfterSeconds']);
    const rl: NonNullable<RouteFaults['rateLimit']> = {};
    const count = nonNegInt(`${where}.rateLimit.count`, raw.rateLimit.count);
    if (count !== undefined) rl.count = count;
    const status = raw.rateLimit.status;
    if (status !== undefined) {
      if (status !== 413 && status !== 429) throw new FaultConfigError(`${where}.rateLimit.status must be 413 or 429`);
      rl.status = status;
    }
    const ra = nonNegInt(`${where}.rateLimit.retryAfterSeconds`, raw.rateLimit.retryAfterSeconds);
    if (ra !== undefined) rl.retryAfterSeconds = ra;
    out.rateLimit = rl;
  }
  const lose = nonNegInt(`${where}.loseReplyAfterCommit`, raw.loseReplyAfterCommit);
  if (lose !== undefined) out.loseReplyAfterCommit = lose;
  return out;
}

function validateStuckList(where: string, v: unknown): boolean | StuckState[] | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  if (!Array.isArray(v)) throw new FaultConfigError(`${where} must be true/false or a list of states`);
  return v.map((s) => {
    if (!STUCK_STATES.includes(s as StuckState)) {
      throw new FaultConfigError(`${where}: "${String(s)}" is not one of ${STUCK_STATES.join(', ')}`);
    }
    return s as StuckState;
  });
}

/** Checks a FaultConfig that came from JSON; throws FaultConfigError naming the bad field. */
export function validateFaultConfig(raw: unknown): FaultConfig {
  if (!isRecord(raw)) throw new FaultConfigError('faults must be a JSON object');
  const out: FaultConfig = validateRoute('faults', raw, TOP_KEYS);
  if (raw.routes !== undefined) {
    if (!isRecord(raw.routes)) throw new FaultConfigError('faults.routes must be an object');
    out.routes = {};
    for (const [key, val] of Object.entries(raw.routes)) {
      if (!/^(\*|[A-Z]+) \/\S*$/.test(key)) {
        throw new FaultConfigError(`faults.routes: "${key}" is not "METHOD /template" (e.g. "POST /volumes")`);
      }
      if (!isRecord(val)) throw new FaultConfigError(`faults.routes["${key}"] must be an object`);
      out.routes[key] = validateRoute(`faults.routes["${key}"]`, val, ROUTE_KEYS);
    }
  }
  if (raw.stuck !== undefined) {
    if (!isRecord(raw.stuck)) throw new FaultConfigError('faults.stuck must be an object');
    checkKeys('faults.stuck', raw.stuck, ['volumes', 'snapshots']);
    const volumes = validateStuckList('faults.stuck.volumes', raw.stuck.volumes);
    const snapshots = validateStuckList('faults.stuck.snapshots', raw.stuck.snapshots);
    out.stuck = {};
    if (volumes !== undefined) out.stuck.volumes = volumes;
    if (snapshots !== undefined) out.stuck.snapshots = snapshots;
  }
  if (raw.errorOnCreate !== undefined) {
    if (!isRecord(raw.errorOnCreate)) throw new FaultConfigError('faults.errorOnCreate must be an object');
    checkKeys('faults.errorOnCreate', raw.errorOnCreate, ['volumes', 'snapshots']);
    const volumes = boolOrCount('faults.errorOnCreate.volumes', raw.errorOnCreate.volumes);
    const snapshots = boolOrCount('faults.errorOnCreate.snapshots', raw.errorOnCreate.snapshots);
    out.errorOnCreate = {};
    if (volumes !== undefined) out.errorOnCreate.volumes = volumes;
    if (snapshots !== undefined) out.errorOnCreate.snapshots = snapshots;
  }
  const errorOnExtend = boolOrCount('faults.errorOnExtend', raw.errorOnExtend);
  if (errorOnExtend !== undefined) out.errorOnExtend = errorOnExtend;
  const tokenExpiry = nonNegNumber('faults.tokenExpirySeconds', raw.tokenExpirySeconds);
  if (tokenExpiry !== undefined) out.tokenExpirySeconds = tokenExpiry;
  return out;
}

/** What to do with one request. */
export interface FaultDecision {
  latencyMs: number;
  /** Answer nothing, ever. */
  hang: boolean;
  /** Answer this error instead of handling the request. */
  error?: { status: number };
  rateLimit?: { status: 413 | 429; retryAfterSeconds: number };
  /** Handle the request, then destroy the connection instead of answering. */
  loseReply: boolean;
}

/** Counted knobs are copied so consuming them never mutates the caller's object. */
type Live = RouteFaults;

export class FaultEngine {
  private config: FaultConfig = {};
  private global: Live = {};
  private routes = new Map<string, Live>();
  private errorOnCreateLeft: { volumes?: boolean | number; snapshots?: boolean | number } = {};
  private errorOnExtendLeft: boolean | number | undefined;
  /** Called when the set of stuck states may have changed, so parked transitions can resume. */
  onChange: () => void = () => undefined;

  constructor(initial?: FaultConfig) {
    if (initial) this.set(initial);
  }

  /** Replaces the configuration (validated: throws FaultConfigError) and restarts every counter. */
  set(raw: unknown): void {
    const cfg = validateFaultConfig(raw);
    this.config = cfg;
    const { routes, stuck: _s, errorOnCreate, errorOnExtend, tokenExpirySeconds: _t, ...global } = structuredClone(cfg);
    this.global = global;
    this.routes = new Map(Object.entries(routes ?? {}));
    this.errorOnCreateLeft = errorOnCreate ?? {};
    this.errorOnExtendLeft = errorOnExtend;
    this.onChange();
  }

  current(): FaultConfig {
    return structuredClone(this.config);
  }

  private rulesFor(method: string, template: string, includeGlobal: boolean): Live[] {
    const out: Live[] = [];
    const exact = this.routes.get(`${method} ${template}`);
    if (exact) out.push(exact);
    const any = this.routes.get(`* ${template}`);
    if (any) out.push(any);
    if (includeGlobal) out.push(this.global);
    return out;
  }

  /**
   * Decides the fate of one request to route "METHOD template". Global knobs apply to Cinder
   * routes only (includeGlobal); Keystone routes are faulted only through explicit route keys.
   */
  decide(method: string, template: string, includeGlobal: boolean): FaultDecision {
    const rules = this.rulesFor(method, template, includeGlobal);
    const d: FaultDecision = { latencyMs: 0, hang: false, loseReply: false };
    for (const r of rules) d.latencyMs += r.latencyMs ?? 0;
    for (const r of rules) {
      if (r.hang === true) return { ...d, hang: true };
      if (typeof r.hang === 'number' && r.hang > 0) {
        r.hang -= 1;
        return { ...d, hang: true };
      }
    }
    for (const r of rules) {
      const rl = r.rateLimit;
      if (!rl) continue;
      if (rl.count === undefined || rl.count > 0) {
        if (rl.count !== undefined) rl.count -= 1;
        return { ...d, rateLimit: { status: rl.status ?? 429, retryAfterSeconds: rl.retryAfterSeconds ?? 1 } };
      }
    }
    for (const r of rules) {
      if (r.failNext !== undefined && r.failNext > 0) {
        r.failNext -= 1;
        return { ...d, error: { status: r.errorStatus ?? 500 } };
      }
    }
    for (const r of rules) {
      if (r.errorRate !== undefined && r.errorRate > 0 && Math.random() < r.errorRate) {
        return { ...d, error: { status: r.errorStatus ?? 500 } };
      }
    }
    if (method !== 'GET' && method !== 'HEAD') {
      for (const r of rules) {
        if (r.loseReplyAfterCommit !== undefined && r.loseReplyAfterCommit > 0) {
          r.loseReplyAfterCommit -= 1;
          return { ...d, loseReply: true };
        }
      }
    }
    return d;
  }

  isStuck(kind: 'volumes' | 'snapshots', state: string): boolean {
    const s = this.config.stuck?.[kind];
    if (s === true) return true;
    if (Array.isArray(s)) return s.includes(state as StuckState);
    return false;
  }

  private static take(v: boolean | number | undefined): { hit: boolean; left: boolean | number | undefined } {
    if (v === true) return { hit: true, left: v };
    if (typeof v === 'number' && v > 0) return { hit: true, left: v - 1 };
    return { hit: false, left: v };
  }

  takeErrorOnCreate(kind: 'volumes' | 'snapshots'): boolean {
    const { hit, left } = FaultEngine.take(this.errorOnCreateLeft[kind]);
    if (left !== undefined) this.errorOnCreateLeft[kind] = left;
    return hit;
  }

  takeErrorOnExtend(): boolean {
    const { hit, left } = FaultEngine.take(this.errorOnExtendLeft);
    this.errorOnExtendLeft = left;
    return hit;
  }

  get tokenExpirySeconds(): number | undefined {
    return this.config.tokenExpirySeconds;
  }
}
