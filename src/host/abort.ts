/** The error to throw when the caller's signal fired: its reason, so the edge sees the abort. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const err = new Error(typeof reason === 'string' ? reason : 'the operation was aborted');
  err.name = 'AbortError';
  return err;
}
