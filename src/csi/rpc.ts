import { randomBytes } from 'node:crypto';
import type { Metadata, ServerUnaryCall, sendUnaryData, handleUnaryCall, status as Status } from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import { redact } from '../log/redact.js';
import type { RpcContext } from '../util/context.js';
import { DriverError } from '../util/errors.js';
import { Code } from './status-codes.js';
import { mapError } from './error-map.js';
import type { KeyedTryLock } from './locks.js';
import type { InflightTracker } from './inflight.js';
import { rpcDuration, rpcTotal } from './metrics.js';

export type RpcHandler<Req, Res> = (req: Req, ctx: RpcContext) => Promise<Res>;

export interface RpcDeps {
  log: Logger;
  locks: KeyedTryLock;
  inflight: InflightTracker;
}

/** What the wrapper needs to know about one method beyond its handler. */
export interface MethodPolicy<Req> {
  /** Keys to hold while the handler runs; another call on a held key gets ABORTED. */
  lockKeys?: (req: Req) => string[];
}

/**
 * The one wrapper every RPC goes through: request id, deadline → AbortSignal, try-locks,
 * error mapping, one structured log line and metrics. Handlers stay plain async functions.
 */
export function wrapUnary<Req, Res>(
  method: string,
  handler: RpcHandler<Req, Res> | undefined,
  policy: MethodPolicy<Req>,
  deps: RpcDeps,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    void runUnary(method, handler, policy, deps, call, callback);
  };
}

async function runUnary<Req, Res>(
  method: string,
  handler: RpcHandler<Req, Res> | undefined,
  policy: MethodPolicy<Req>,
  deps: RpcDeps,
  call: ServerUnaryCall<Req, Res>,
  callback: sendUnaryData<Res>,
): Promise<void> {
  const started = performance.now();
  const leave = deps.inflight.enter();
  const requestId = requestIdFrom(call.metadata);
  const req = call.request;
  const volumeId = idOf(req);
  const log = deps.log.child({ requestId, method });
  const controller = new AbortController();
  const deadline = deadlineOf(call);
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    timer = setTimeout(() => controller.abort(deadlineError()), Math.max(0, deadline - Date.now()));
  }
  const onCancel = (): void => controller.abort(new Error('cancelled by the caller'));
  call.on('cancelled', onCancel);
  let release: (() => void) | undefined;
  let code = Code.OK;
  let errorMessage: string | undefined;
  log.debug({ request: redact(req) }, 'request');
  try {
    if (!handler) throw new DriverError('unsupported', `${method} is not implemented by this plugin`);
    const keys = policy.lockKeys?.(req) ?? [];
    const lock = deps.locks.tryAcquire(keys);
    if ('busy' in lock) {
      throw new DriverError('aborted', `an operation on ${lock.busy} is already in progress; retry later`);
    }
    release = lock.release;
    const ctx: RpcContext = { requestId, signal: controller.signal, deadline, log };
    const res = await handler(req, ctx);
    log.debug({ response: redact(res) }, 'response');
    callback(null, res);
  } catch (err) {
    const mapped = mapError(err, controller.signal);
    code = mapped.code;
    errorMessage = mapped.message;
    if (code === Code.INTERNAL || code === Code.UNKNOWN) log.error({ err }, 'internal error');
    callback({ code: mapped.code as number as Status, details: mapped.message });
  } finally {
    release?.();
    if (timer) clearTimeout(timer);
    call.removeListener('cancelled', onCancel);
    const durationMs = Math.round((performance.now() - started) * 10) / 10;
    const codeName = Code[code];
    rpcTotal.inc({ method, code: codeName });
    rpcDuration.observe({ method }, durationMs / 1000);
    const line = { volumeId, durationMs, code: codeName, ...(errorMessage ? { error: errorMessage } : {}) };
    if (code === Code.OK) log.info(line, 'rpc');
    else log.warn(line, 'rpc');
    leave();
  }
}

function requestIdFrom(md: Metadata): string {
  const given = md.get('x-request-id')[0];
  if (typeof given === 'string' && /^[\w.-]{1,64}$/.test(given)) return given;
  return randomBytes(6).toString('hex');
}

function deadlineOf(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) ? ms : undefined;
}

function deadlineError(): Error {
  const e = new Error('deadline exceeded');
  e.name = 'DeadlineExceeded';
  return e;
}

/** The volume (or snapshot) an RPC is about, for the log line. */
function idOf(req: unknown): string | undefined {
  if (!req || typeof req !== 'object') return undefined;
  const r = req as Record<string, unknown>;
  for (const k of ['volume_id', 'source_volume_id', 'snapshot_id', 'name']) {
    const v = r[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return undefined;
}
