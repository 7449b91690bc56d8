import { Code, CsiError } from '../util/errors.js';
import { ExecError } from '../host/exec.js';

/**
 * The one error-mapping table (architecture §7). Everything an RPC throws ends here and leaves as a
 * gRPC status with a message that names what failed. Cinder errors are recognised by shape
 * (status + Cinder's error code) so this table stays the only place that decides.
 */
export interface MappedStatus {
  code: Code;
  message: string;
}

/** The fields of src/cinder's typed errors that this table reads. */
interface CinderErrorShape {
  status?: number;
  cinderCode?: string;
  retryAfter?: number;
  quota?: boolean;
  message: string;
}

function isCinderError(err: unknown): err is Error & CinderErrorShape {
  return err instanceof Error && /^(Cinder|QuotaExceeded|Keystone)\w*Error$/.test(err.name);
}

/** Cinder HTTP status → gRPC code; `undefined` status = no answer (timeout, connection). */
export function cinderStatusToCode(status: number | undefined, retryAfter?: number, quota?: boolean): Code {
  if (quota) return Code.RESOURCE_EXHAUSTED;
  if (status === undefined) return Code.UNAVAILABLE;
  if (status === 404) return Code.NOT_FOUND;
  if (status === 400 || status === 409) return Code.FAILED_PRECONDITION;
  if (status === 413 && (retryAfter ?? 0) === 0) return Code.RESOURCE_EXHAUSTED;
  if (status === 413 || status === 429) return Code.UNAVAILABLE;
  if (status === 401) return Code.UNAUTHENTICATED;
  if (status === 403) return Code.PERMISSION_DENIED;
  if (status >= 500) return Code.UNAVAILABLE;
  return Code.INTERNAL;
}

export function mapError(err: unknown, signal?: AbortSignal): MappedStatus {
  if (err instanceof CsiError) return { code: err.code, message: err.message };
  if (isCinderError(err)) {
    const code = cinderStatusToCode(err.status, err.retryAfter, err.quota || err.name === 'QuotaExceededError');
    return { code, message: `cinder: ${err.message}` };
  }
  if (err instanceof ExecError) {
    return { code: err.timedOut ? Code.DEADLINE_EXCEEDED : Code.INTERNAL, message: err.message };
  }
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
