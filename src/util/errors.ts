/**
 * Errors every layer below the gRPC edge throws. The numeric codes equal gRPC's status codes so
 * the edge maps them one to one, yet services/, cinder/ and brick/ never import @grpc/grpc-js.
 */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** An error that already knows which status the caller should see. */
export class CsiError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CsiError';
  }
}

export const invalidArgument = (msg: string): CsiError => new CsiError(Code.INVALID_ARGUMENT, msg);
export const notFound = (msg: string): CsiError => new CsiError(Code.NOT_FOUND, msg);
export const alreadyExists = (msg: string): CsiError => new CsiError(Code.ALREADY_EXISTS, msg);
export const failedPrecondition = (msg: string): CsiError => new CsiError(Code.FAILED_PRECONDITION, msg);
export const aborted = (msg: string): CsiError => new CsiError(Code.ABORTED, msg);
export const outOfRange = (msg: string): CsiError => new CsiError(Code.OUT_OF_RANGE, msg);
export const internal = (msg: string, cause?: unknown): CsiError => new CsiError(Code.INTERNAL, msg, { cause });
export const unavailable = (msg: string, cause?: unknown): CsiError => new CsiError(Code.UNAVAILABLE, msg, { cause });
export const resourceExhausted = (msg: string): CsiError => new CsiError(Code.RESOURCE_EXHAUSTED, msg);

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
