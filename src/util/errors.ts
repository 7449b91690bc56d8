/**
 * Errors every layer below the gRPC edge throws. They say what kind of failure it is in the
 * driver's own terms; which gRPC status a kind becomes is decided once, at the edge
 * (src/csi/error-map.ts), so services/, cinder/, brick/ and host/ never pick a status code.
 */
export type ErrorKind =
  /** The request itself is wrong: a field missing, malformed or out of its domain. */
  | 'invalid'
  | 'not-found'
  /** Something of that name exists and differs from what was asked. */
  | 'exists'
  /** The request is fine but the state of the world does not allow it now (or here). */
  | 'precondition'
  /** Given up part-way (another operation holds the object, a wait ran out): repeat it later. */
  | 'aborted'
  | 'out-of-range'
  /** A quota or a capacity limit. */
  | 'exhausted'
  /** A dependency (Cinder, Keystone, a host tool) did not answer usefully: transient. */
  | 'unavailable'
  | 'timed-out'
  | 'cancelled'
  | 'unauthenticated'
  | 'forbidden'
  | 'unsupported'
  /** Our own bug or a state we cannot explain. */
  | 'internal';

/** An error that knows what kind of failure it is. */
export class DriverError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DriverError';
  }
}

export const invalidArgument = (msg: string): DriverError => new DriverError('invalid', msg);
export const notFound = (msg: string): DriverError => new DriverError('not-found', msg);
export const alreadyExists = (msg: string): DriverError => new DriverError('exists', msg);
export const failedPrecondition = (msg: string): DriverError => new DriverError('precondition', msg);
export const aborted = (msg: string): DriverError => new DriverError('aborted', msg);
export const outOfRange = (msg: string): DriverError => new DriverError('out-of-range', msg);
export const internal = (msg: string, cause?: unknown): DriverError => new DriverError('internal', msg, { cause });
export const unavailable = (msg: string, cause?: unknown): DriverError => new DriverError('unavailable', msg, { cause });
export const resourceExhausted = (msg: string): DriverError => new DriverError('exhausted', msg);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
