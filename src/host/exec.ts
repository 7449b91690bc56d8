import { DriverError } from '../util/errors.js';
/**
 * The one seam through which the driver runs host programs. Arguments are arrays (never a shell
 * string); every call has a timeout; arguments listed in `secrets` are masked wherever the call
 * is logged or reported in an error.
 */
export interface ExecOptions {
  /** Milliseconds before the process is killed; the implementation has a default. */
  timeoutMs?: number;
  /** Exit codes that count as success besides 0 (e.g. iscsiadm 15 = already logged in). */
  okExitCodes?: number[];
  /** Values that must never appear in logs or errors (CHAP passwords, keys). */
  secrets?: string[];
  /** Written to the process's standard input. */
  input?: string;
  /** Cancels the process when the caller's RPC is cancelled or its deadline passes. */
  signal?: AbortSignal;
  /** Extra environment variables for the child. */
  env?: Record<string, string>;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Exec {
  run(command: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

/**
 * Thrown when a command exits with a code that is not accepted, times out, or cannot start. A
 * failed command is not something the caller can fix: internal, or timed out.
 */
export class ExecError extends DriverError {
  constructor(
    readonly command: string,
    /** The argv as it may be shown: secrets already masked. */
    readonly maskedArgs: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly timedOut: boolean,
    message: string,
  ) {
    super(timedOut ? 'timed-out' : 'internal', message);
    this.name = 'ExecError';
  }
}

export const MASK = '***';

/** Replace every occurrence of each secret in `text` by the mask. */
export function maskText(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const s of secrets) {
    if (s) out = out.split(s).join(MASK);
  }
  return out;
}

export function maskArgs(args: readonly string[], secrets: readonly string[] | undefined): string[] {
  return args.map((a) => maskText(a, secrets));
}
