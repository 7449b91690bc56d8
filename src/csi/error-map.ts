import { CinderError, failureKindOf } from '../cinder/errors.js';
import { DriverError, type ErrorKind } from '../util/errors.js';
import { Code } from './status-codes.js';

/**
 * The one error-mapping table (architecture §7). Everything an RPC throws ends here and leaves
 * as a gRPC status with a message that names what failed. The layers below say what kind of
 * failure it was (util/errors.ts, and `failureKindOf` for Cinder's answers); this is the only
 * place that turns a kind into a status code.
 */
export interface MappedStatus {
  code: Code;
  message: string;
}

const STATUS_OF_KIND: Readonly<Record<ErrorKind, Code>> = {
  invalid: Code.INVALID_ARGUMENT,
  'not-found': Code.NOT_FOUND,
  exists: Code.ALREADY_EXISTS,
  precondition: Code.FAILED_PRECONDITION,
  aborted: Code.ABORTED,
  'out-of-range': Code.OUT_OF_RANGE,
  exhausted: Code.RESOURCE_EXHAUSTED,
  unavailable: Code.UNAVAILABLE,
  'timed-out': Code.DEADLINE_EXCEEDED,
  cancelled: Code.CANCELLED,
  unauthenticated: Code.UNAUTHENTICATED,
  forbidden: Code.PERMISSION_DENIED,
  unsupported: Code.UNIMPLEMENTED,
  internal: Code.INTERNAL,
};

export function mapError(err: unknown, signal?: AbortSignal): MappedStatus {
  if (err instanceof DriverError) return { code: STATUS_OF_KIND[err.kind], message: err.message };
  if (err instanceof CinderError) return { code: STATUS_OF_KIND[failureKindOf(err)], message: `cinder: ${err.message}` };
  if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) {
    const reason: unknown = signal?.reason;
    const deadline = reason instanceof Error && reason.name === 'DeadlineExceeded';
    return deadline
      ? { code: Code.DEADLINE_EXCEEDED, message: 'the deadline passed before the operation finished' }
      : { code: Code.CANCELLED, message: 'the caller cancelled the request' };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: Code.INTERNAL, message: `internal error: ${message}` };
}
