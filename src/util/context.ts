import type { Logger } from '../log/logger.js';

/**
 * What every service call receives from the gRPC edge: the caller's cancellation (deadline or
 * client cancel, as one AbortSignal), the absolute deadline for budgeting waits, and a logger
 * already tagged with the request id.
 */
export interface RpcContext {
  requestId: string;
  signal: AbortSignal;
  /** Epoch milliseconds after which the caller no longer listens; undefined = no deadline. */
  deadline?: number;
  log: Logger;
}

/** Milliseconds left before the deadline minus a safety margin; Infinity without a deadline. */
export function timeLeft(ctx: Pick<RpcContext, 'deadline'>, marginMs = 0, now = Date.now()): number {
  if (ctx.deadline === undefined) return Number.POSITIVE_INFINITY;
  return ctx.deadline - now - marginMs;
}
