import type { ErrorKind } from '../util/errors.js';

/**
 * Typed errors of the Cinder/Keystone client. What each means for the driver is
 * `failureKindOf` below (a 404 is "not found", a lost answer "unavailable", ...); the gRPC edge
 * (src/csi/error-map.ts) turns that kind into a status like any other error's.
 *
 * Messages are built from what the server said, passed through the client's secret scrubber:
 * they never carry a token, a password or an application-credential secret. No axios error is
 * ever attached as `cause` (its config holds the request headers and body).
 */

/** What went wrong, coarsely: lets callers and metrics tell a 404 from a lost connection. */
export type CinderErrorKind =
  /** The server answered with an error status. */
  | 'http'
  /** No answer: connection refused/reset, socket hang up, DNS. */
  | 'network'
  /** No answer within the per-attempt timeout or the caller's deadline. */
  | 'timeout'
  /** The server answered 2xx with a body we cannot use (INTERNAL). */
  | 'malformed';

export interface CinderErrorInit {
  kind: CinderErrorKind;
  status?: number;
  cinderCode?: string;
  message: string;
  method: string;
  /** The route template (`/volumes/{id}`), never a concrete id. */
  route: string;
  retryAfter?: number;
  outcomeUnknown?: boolean;
  /** errno-style code of a network failure (ECONNRESET, ...). */
  networkCode?: string;
}

export class CinderError extends Error {
  readonly kind: CinderErrorKind;
  /** HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  /** The key of Cinder's error envelope: itemNotFound, badRequest, overLimit, computeFault, ... */
  readonly cinderCode: string | undefined;
  readonly method: string;
  readonly route: string;
  /** Seconds, from the Retry-After header (or the overLimit body). */
  readonly retryAfter: number | undefined;
  /**
   * True when the request may have taken effect although no (successful) reply arrived: a
   * non-idempotent POST whose reply was lost, or a retry that failed after such a loss. The caller
   * re-finds the object (by name, by listing) instead of repeating blindly.
   */
  readonly outcomeUnknown: boolean;
  readonly networkCode: string | undefined;
  /** Read by the edge's error table: true only for quota refusals. */
  readonly quota: boolean = false;

  constructor(init: CinderErrorInit) {
    super(init.message);
    this.name = 'CinderError';
    this.kind = init.kind;
    this.status = init.status;
    this.cinderCode = init.cinderCode;
    this.method = init.method;
    this.route = init.route;
    this.retryAfter = init.retryAfter;
    this.outcomeUnknown = init.outcomeUnknown ?? false;
    this.networkCode = init.networkCode;
  }

  /** One line for logs: method, route, status and message (no ids beyond Cinder's message). */
  describe(): string {
    const status = this.status === undefined ? this.kind : `${this.status}${this.cinderCode ? ` ${this.cinderCode}` : ''}`;
    return `${this.method} ${this.route} → ${status}: ${this.message}${this.outcomeUnknown ? ' (outcome unknown)' : ''}`;
  }
}

/** 413 with Retry-After 0: a quota refusal, final (RESOURCE_EXHAUSTED), never retried. */
export class QuotaExceededError extends CinderError {
  override readonly quota = true;
  constructor(init: Omit<CinderErrorInit, 'kind'>) {
    super({ ...init, kind: 'http' });
    this.name = 'QuotaExceededError';
  }
}

/** A failure talking to Keystone (bad credentials, no catalog entry, Keystone down). */
export class KeystoneError extends CinderError {
  constructor(init: CinderErrorInit) {
    super(init);
    this.name = 'KeystoneError';
  }
}

/**
 * What a Cinder failure means for the driver. 400 and 409 are the volume's state refusing the
 * call (Cinder's "invalid volume status", "volume has snapshots"), not a malformed request of
 * the CO: the request was well-formed when it reached us. 413 with Retry-After 0 is a quota
 * refusal, final; with a delay it is Cinder's rate limit, transient like a 5xx or no answer.
 */
export function failureKindOf(err: CinderError): ErrorKind {
  const status = err.status;
  if (err.quota) return 'exhausted';
  if (status === undefined) return 'unavailable';
  if (status === 404) return 'not-found';
  if (status === 400 || status === 409) return 'precondition';
  if (status === 413 && (err.retryAfter ?? 0) === 0) return 'exhausted';
  if (status === 413 || status === 429) return 'unavailable';
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status >= 500) return 'unavailable';
  return 'internal';
}

export function isNotFound(err: unknown): boolean {
  return err instanceof CinderError && err.status === 404;
}
export function isBadRequest(err: unknown): boolean {
  return err instanceof CinderError && err.status === 400;
}
export function isUnauthorized(err: unknown): boolean {
  return err instanceof CinderError && err.status === 401;
}
export function isForbidden(err: unknown): boolean {
  return err instanceof CinderError && err.status === 403;
}
export function isOutcomeUnknown(err: unknown): boolean {
  return err instanceof CinderError && err.outcomeUnknown;
}

export interface ParsedErrorBody {
  cinderCode?: string;
  message?: string;
  retryAfter?: number;
}

const MAX_MESSAGE = 500;

/**
 * Reads the error envelopes Cinder and Keystone send:
 * Cinder `{"itemNotFound":{"code":404,"message":"…"}}` (one key naming the fault),
 * Keystone `{"error":{"code":401,"title":"Unauthorized","message":"…"}}`,
 * the router's `{"message":"…<br />","code":"404 Not Found","title":"Not Found"}`,
 * and anything else (HTML, text) as a short plain message.
 */
export function parseErrorBody(body: string): ParsedErrorBody {
  const text = body.trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { message: clean(text) };
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return { message: clean(text) };
  const obj = parsed as Record<string, unknown>;
  if (typeof obj.message === 'string') {
    return { cinderCode: typeof obj.title === 'string' ? obj.title : undefined, message: clean(obj.message) };
  }
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const key = keys[0] as string;
    const inner = obj[key];
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const rec = inner as Record<string, unknown>;
      const code = key === 'error' && typeof rec.title === 'string' ? rec.title : key;
      const out: ParsedErrorBody = { cinderCode: code };
      if (typeof rec.message === 'string') out.message = clean(rec.message);
      const ra = rec.retryAfter;
      const n = typeof ra === 'number' ? ra : typeof ra === 'string' && ra.trim() !== '' ? Number(ra) : NaN;
      if (Number.isFinite(n) && n >= 0) out.retryAfter = n;
      return out;
    }
  }
  return { message: clean(text) };
}

/** Strips HTML and collapses whitespace; bounds the length so a huge page cannot flood a log. */
function clean(s: string): string {
  const t = s
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > MAX_MESSAGE ? `${t.slice(0, MAX_MESSAGE)}…` : t;
}

/** Retry-After: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** A loggable one-liner for any thrown value (CinderError gets method, route and status). */
export function errorMessageOf(err: unknown): string {
  if (err instanceof CinderError) return err.describe();
  return err instanceof Error ? err.message : String(err);
}
