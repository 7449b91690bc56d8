import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { abortReason } from './abort.js';
import { ExecError, maskArgs, maskText, type Exec, type ExecOptions, type ExecResult } from './exec.js';
import { ProgramMissingError } from './host-programs.js';

/**
 * Where host programs run.
 * - `direct`: in the plugin's own namespaces (the container image ships the tools, or the
 *   plugin runs on the host).
 * - `nsenter`: in the host's mount, UTS, IPC and network namespaces. Mount: `mount`, `mkfs`,
 *   `losetup` see the host's paths and their mounts land on the host. Network: `iscsiadm`
 *   reaches `iscsid` through an abstract unix socket, which belongs to a network namespace.
 *   UTS/IPC: host name and SysV IPC as the host tools expect them. The PID namespace is not
 *   entered (nothing here needs it). With `--target 1` this needs `hostPID: true`; without it
 *   (the recommended pod spec) pass `nsenterProc` = the host's /proc/1 mounted into the
 *   container (e.g. `/host/proc/1`), and the namespace files are used directly.
 * - `chroot`: `chroot /host <cmd>`: the host's binaries and configuration (/etc/iscsi) with
 *   the host's root file system mounted at /host; the namespaces stay the container's.
 */
export type HostMode = 'direct' | 'nsenter' | 'chroot';

export interface ExecaExecOptions {
  mode?: HostMode;
  /** Root of the host file system for `chroot` mode. Default `/host`. */
  hostRoot?: string;
  /** For `nsenter` mode: a /proc/<pid> directory of a host process whose namespaces to enter.
   *  Default: `--target 1` (needs hostPID). */
  nsenterProc?: string;
  /** Default timeout per command. Default 60 s. */
  defaultTimeoutMs?: number;
  /** Characters of stderr kept in an error message. Default 2,000. */
  maxStderrChars?: number;
  log?: Logger;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const MAX_BUFFER = 16 * 1024 * 1024;

/** How the seam turns one logical command into the argv it really runs. */
export function hostArgv(
  command: string,
  args: readonly string[],
  mode: HostMode,
  opts: { hostRoot?: string; nsenterProc?: string } = {},
): { file: string; args: string[] } {
  switch (mode) {
    case 'direct':
      return { file: command, args: [...args] };
    case 'chroot':
      return { file: 'chroot', args: [opts.hostRoot ?? '/host', command, ...args] };
    case 'nsenter': {
      const ns = opts.nsenterProc
        ? [
            `--mount=${opts.nsenterProc}/ns/mnt`,
            `--uts=${opts.nsenterProc}/ns/uts`,
            `--ipc=${opts.nsenterProc}/ns/ipc`,
            `--net=${opts.nsenterProc}/ns/net`,
          ]
        : ['--target', '1', '--mount', '--uts', '--ipc', '--net'];
      return { file: 'nsenter', args: [...ns, '--', command, ...args] };
    }
  }
}

/** Keep the end of a long text (the useful part of stderr is usually last). */
export function truncate(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : `…${t.slice(t.length - max)}`;
}

/**
 * Build the ExecError every Exec implementation throws, so the real one and the test fakes
 * produce the same masked messages.
 */
export function makeExecError(
  command: string,
  args: readonly string[],
  secrets: readonly string[] | undefined,
  failure: { exitCode?: number; stderr?: string; timedOut?: boolean; reason?: string },
  maxStderrChars = 2_000,
): ExecError {
  const masked = maskArgs(args, secrets);
  const stderr = truncate(maskText(failure.stderr ?? '', secrets), maxStderrChars);
  const shown = [command, ...masked].join(' ');
  let what: string;
  if (failure.timedOut) what = 'timed out';
  else if (failure.exitCode !== undefined) what = `exited with code ${failure.exitCode}`;
  else what = `failed: ${maskText(failure.reason ?? 'unknown error', secrets)}`;
  const message = `${shown} ${what}${stderr ? `: ${stderr}` : ''}`;
  return new ExecError(command, masked, failure.exitCode, stderr, failure.timedOut ?? false, message);
}

/**
 * The real Exec: execa with an argument array (never a shell), a timeout, cancellation, and
 * one debug line per command with the masked argv, duration and exit code.
 *
 * About secrets on the command line: whatever is in argv is readable in /proc/<pid>/cmdline by
 * every process that can see the PID (on the host: every user, unless /proc is mounted with
 * `hidepid=invisible`). Masking protects logs and errors only. Therefore:
 * - RBD keys never go in argv: `rbd map --keyfile` / `--keyring` with a 0600 file on tmpfs.
 * - iSCSI CHAP passwords: iscsiadm has no way to read a value from stdin or a file, so
 *   `iscsiadm -m node --op update -n node.session.auth.password -v <password>` is the only
 *   portable way (os-brick and every CSI driver do the same). The exposure lasts for that one
 *   short-lived process. The alternative—writing the node record under /etc/iscsi/nodes by
 *   hand—depends on the open-iscsi database layout and is not done. Mitigations are
 *   operational: run the node plugin without hostPID (container PIDs are then invisible to
 *   other pods) and mount the host's /proc with `hidepid=invisible`.
 */
export class ExecaExec implements Exec {
  readonly mode: HostMode;
  private readonly log: Logger;
  private readonly defaultTimeoutMs: number;
  private readonly maxStderrChars: number;

  constructor(private readonly options: ExecaExecOptions = {}) {
    this.mode = options.mode ?? 'direct';
    this.log = options.log ?? silentLogger();
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    this.maxStderrChars = options.maxStderrChars ?? 2_000;
  }

  async run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const { signal, secrets } = options;
    if (signal?.aborted) throw abortReason(signal);
    const real = hostArgv(command, args, this.mode, this.options);
    const timeout = options.timeoutMs ?? this.defaultTimeoutMs;
    const started = performance.now();
    const result = await execa(real.file, real.args, {
      reject: false,
      timeout,
      ...(signal ? { cancelSignal: signal } : {}),
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' as const }),
      ...(options.env ? { env: options.env, extendEnv: true } : {}),
      stripFinalNewline: false,
      maxBuffer: MAX_BUFFER,
      windowsHide: true,
    });
    const durationMs = Math.round(performance.now() - started);
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';
    const exitCode = result.exitCode;
    const maskedArgs = maskArgs(args, secrets);
    this.log.debug(
      {
        cmd: command,
        args: maskedArgs,
        ...(this.mode !== 'direct' ? { via: this.mode } : {}),
        exitCode,
        durationMs,
        ...(result.timedOut ? { timedOut: true } : {}),
      },
      'exec',
    );

    if (result.isCanceled && signal?.aborted) throw abortReason(signal);
    if (programMissing(this.mode, exitCode, stderr, 'code' in result ? result.code : undefined)) {
      throw new ProgramMissingError(command);
    }
    const ok = exitCode !== undefined && (exitCode === 0 || (options.okExitCodes ?? []).includes(exitCode));
    if (ok && !result.timedOut) return { exitCode, stdout, stderr };
    throw makeExecError(
      command,
      args,
      secrets,
      {
        exitCode,
        stderr,
        timedOut: result.timedOut,
        reason: result.timedOut
          ? undefined
          : result.signal
            ? `killed by ${result.signal}`
            : ('code' in result && typeof result.code === 'string' ? result.code : undefined) ??
              result.originalMessage ??
              'cannot start',
      },
      this.maxStderrChars,
    );
  }
}

/**
 * Whether the program itself could not be found, as each mode reports it: a spawn that fails
 * with ENOENT (direct), or the wrapper's own exit code 127 with "No such file or directory"
 * (`chroot: failed to run command 'x'`, `nsenter: failed to execute x`). A program that runs and
 * exits 127 for its own reasons does not print the wrapper's words.
 */
export function programMissing(mode: HostMode, exitCode: number | undefined, stderr: string, spawnCode: unknown): boolean {
  if (mode === 'direct') return spawnCode === 'ENOENT';
  if (exitCode !== 127) return false;
  const wrapper = mode === 'chroot' ? /^chroot: failed to run command .*No such file or directory/m : /^nsenter: failed to execute .*No such file or directory/m;
  return wrapper.test(stderr);
}

export { abortReason } from './abort.js';
