import type { Logger } from '../log/logger.js';
import {
  CinderError,
  KeystoneError,
  QuotaExceededError,
  parseErrorBody,
  parseRetryAfter,
  type CinderErrorInit,
  type CinderErrorKind,
} from './errors.js';
import { TransportError, type HttpMethod, type HttpResponse, type HttpTransport } from './http.js';
import type { CinderMetrics } from './metrics.js';
import { abortReason, backoffDelay, classifyFailure, type RetryPolicy } from './retry.js';
import type { SecretScrubber } from './secrets.js';

/**
 * One logical request to Cinder or Keystone: attempts, retries (see retry.ts), per-attempt
 * timeouts bounded by the caller's deadline, metrics and debug logs per attempt, and the
 * translation of failures into typed errors with scrubbed messages.
 */

/** Per-call options every public method accepts: the RPC's cancellation and deadline. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Epoch milliseconds; attempts and back-off never run past it. */
  deadline?: number;
}

export interface RequestDeps {
  transport: HttpTransport;
  metrics: CinderMetrics;
  log: Logger;
  scrubber: SecretScrubber;
  retry: RetryPolicy;
  requestTimeoutMs: number;
  now: () => number;
  random: () => number;
  /** Injected so unit tests need not wait for real back-off. */
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RequestSpec extends CallOptions {
  service: 'cinder' | 'keystone';
  method: HttpMethod;
  /** Route template for metrics, logs and errors: `/volumes/{id}`. */
  route: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Whether repeating the request after a lost reply is harmless. */
  idempotent: boolean;
  /** Statuses that count as success besides 2xx (the version document answers 300). */
  alsoOk?: number[];
}

/** Time an attempt needs at least to be worth starting. */
const MIN_ATTEMPT_MS = 50;

export async function performRequest(deps: RequestDeps, spec: RequestSpec): Promise<HttpResponse> {
  const mutating = spec.method !== 'GET';
  /** Set once an attempt of a mutating request ended without a definite answer. */
  let ambiguous = false;
  for (let attempt = 1; ; attempt++) {
    if (spec.signal?.aborted) throw abortReason(spec.signal);
    const remaining = spec.deadline === undefined ? Number.POSITIVE_INFINITY : spec.deadline - deps.now();
    if (remaining <= 0) {
      throw makeError(deps, spec, {
        kind: 'timeout',
        message: `${serviceName(spec)} gave no answer before the caller's deadline`,
        outcomeUnknown: ambiguous,
      });
    }
    const timeoutMs = Math.max(1, Math.min(deps.requestTimeoutMs, remaining));
    const started = deps.now();
    let res: HttpResponse | undefined;
    let failure: TransportError | undefined;
    try {
      res = await deps.transport.request({
        method: spec.method,
        url: spec.url,
        headers: spec.headers,
        body: spec.body,
        timeoutMs,
        signal: spec.signal,
        freshConnection: !spec.idempotent,
      });
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      failure = err;
    }
    const seconds = (deps.now() - started) / 1000;
    if (failure?.failure === 'aborted') {
      deps.metrics.observe({ service: spec.service, method: spec.method, route: spec.route, errorKind: 'aborted', seconds });
      throw abortReason(spec.signal);
    }
    const ok = res !== undefined && ((res.status >= 200 && res.status < 300) || (spec.alsoOk ?? []).includes(res.status));
    const errorKind = ok ? undefined : failure ? failure.failure : `http_${res?.status ?? 0}`;
    deps.metrics.observe({ service: spec.service, method: spec.method, route: spec.route, status: res?.status, errorKind, seconds });
    deps.log.debug(
      { service: spec.service, method: spec.method, route: spec.route, status: res?.status, failure: failure?.code, ms: Math.round(seconds * 1000), attempt },
      'cinder client request',
    );
    if (ok && res) return res;

    const parsed = res ? parseErrorBody(res.text) : {};
    const retryAfter = res ? (parseRetryAfter(res.headers['retry-after'], deps.now()) ?? parsed.retryAfter) : undefined;
    const cls = classifyFailure({
      status: res?.status,
      transport: failure?.failure,
      maybeSent: failure?.maybeSent,
      retryAfterSeconds: retryAfter,
      cinderCode: parsed.cinderCode,
      idempotent: spec.idempotent,
    });
    const noDefiniteAnswer = failure !== undefined ? failure.maybeSent : (res?.status ?? 0) >= 500;
    const thisAmbiguous = mutating && noDefiniteAnswer;

    const errInit: Omit<CinderErrorInit, 'method' | 'route'> = failure
      ? {
          kind: (failure.failure === 'tls' ? 'network' : failure.failure) as CinderErrorKind,
          message: `${serviceName(spec)} gave no answer: ${failure.message}`,
          networkCode: failure.code,
        }
      : {
          kind: 'http',
          status: res?.status,
          cinderCode: parsed.cinderCode,
          message: parsed.message ?? `${serviceName(spec)} answered HTTP ${res?.status ?? '?'}`,
          retryAfter,
        };

    let delay: number | undefined;
    if (cls === 'retry') delay = backoffDelay(attempt - 1, deps.retry, deps.random);
    else if (cls === 'retry-after' && retryAfter !== undefined && retryAfter * 1000 <= deps.retry.maxRetryAfterMs) {
      // A little jitter so a crowd of rate-limited callers does not return at the same instant.
      delay = Math.round(retryAfter * 1000 * (1 + 0.1 * deps.random()));
    }
    const roomLeft = spec.deadline === undefined ? Number.POSITIVE_INFINITY : spec.deadline - deps.now();
    if (delay !== undefined && attempt < deps.retry.maxAttempts && roomLeft - delay >= MIN_ATTEMPT_MS) {
      ambiguous ||= thisAmbiguous;
      deps.log.warn(
        { service: spec.service, method: spec.method, route: spec.route, status: res?.status, failure: failure?.code, attempt, delayMs: delay },
        'cinder client: retrying',
      );
      await deps.sleep(delay, spec.signal);
      continue;
    }
    ambiguous ||= thisAmbiguous;
    if (cls === 'quota') {
      throw new QuotaExceededError(scrubInit(deps, { ...errInit, method: spec.method, route: spec.route, retryAfter: retryAfter ?? 0 }));
    }
    // A non-idempotent request that may have run, or a later attempt failing after one did
    // (e.g. DELETE answering 404, os-extend answering 400 because the first attempt worked).
    const outcomeUnknown = cls === 'outcome-unknown' || ambiguous;
    throw makeError(deps, spec, { ...errInit, outcomeUnknown });
  }
}

function serviceName(spec: Pick<RequestSpec, 'service'>): string {
  return spec.service === 'keystone' ? 'Keystone' : 'Cinder';
}

function scrubInit<T extends { message: string }>(deps: Pick<RequestDeps, 'scrubber'>, init: T): T {
  return { ...init, message: deps.scrubber.scrub(init.message) };
}

function makeError(deps: Pick<RequestDeps, 'scrubber'>, spec: Pick<RequestSpec, 'service' | 'method' | 'route'>, init: Omit<CinderErrorInit, 'method' | 'route'>): CinderError {
  const full = scrubInit(deps, { ...init, method: spec.method, route: spec.route });
  return spec.service === 'keystone' ? new KeystoneError(full) : new CinderError(full);
}

/** A typed INTERNAL-kind error for a 2xx answer whose body we cannot use. */
export function malformed(
  deps: Pick<RequestDeps, 'scrubber'>,
  spec: Pick<RequestSpec, 'service' | 'method' | 'route'>,
  status: number,
  what: string,
): CinderError {
  return makeError(deps, spec, { kind: 'malformed', status, cinderCode: 'malformedResponse', message: `unexpected ${serviceName(spec)} answer: ${what}` });
}

/** Parses a JSON body, or throws the malformed-answer error. Empty bodies are `undefined`. */
export function parseJsonBody(
  deps: Pick<RequestDeps, 'scrubber'>,
  spec: Pick<RequestSpec, 'service' | 'method' | 'route'>,
  res: HttpResponse,
): unknown {
  const text = res.text.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(deps, spec, res.status, 'the body is not JSON');
  }
}

/**
 * Awaits a shared (single-flight) promise on behalf of one caller: the caller's abort or deadline
 * ends its own wait without cancelling the shared work other callers still need.
 */
export function awaitShared<T>(shared: Promise<T>, opts: CallOptions, onDeadline: () => Error, now: () => number = Date.now): Promise<T> {
  if (!opts.signal && opts.deadline === undefined) return shared;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(abortReason(opts.signal));
    };
    if (opts.signal?.aborted) {
      reject(abortReason(opts.signal));
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.deadline !== undefined) {
      timer = setTimeout(
        () => {
          cleanup();
          reject(onDeadline());
        },
        Math.max(0, opts.deadline - now()),
      );
    }
    shared.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

