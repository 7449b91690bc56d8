import { isDeepStrictEqual } from 'node:util';
import { ExecError, maskArgs, maskText, type Exec, type ExecOptions, type ExecResult } from '../../src/host/exec.js';
import { makeExecError } from '../../src/host/exec-execa.js';

/** One expected call. `args` is the EXACT argv unless a matcher function is given. */
export interface ScriptStep {
  command: string;
  args: readonly string[] | ((args: readonly string[]) => boolean);
  /** What the program "printed" and its exit code (default 0). A code that is neither 0 nor in
   *  the call's okExitCodes throws an ExecError, as the real Exec does. */
  result?: Partial<ExecResult>;
  /** The call fails without an exit code (timeout, cannot start). */
  fail?: { timedOut?: boolean; reason?: string; stderr?: string };
  /** Values the caller must have passed in options.secrets. */
  secrets?: readonly string[];
  /** Runs when the step is consumed, before the result is returned (side effects, checks). */
  onCall?: (args: readonly string[], options: ExecOptions) => void | Promise<void>;
  /** Resolve after this many milliseconds (for parallel calls). */
  delayMs?: number;
  /** A label for failure messages. */
  label?: string;
}

/** Calls that may come in any order among themselves (parallel logins). */
export interface AnyOrder {
  anyOrder: ScriptStep[];
}

export type ScriptEntry = ScriptStep | AnyOrder;

export interface RecordedCall {
  command: string;
  args: readonly string[];
  maskedArgs: string[];
  options: ExecOptions;
  exitCode?: number;
}

function isAnyOrder(e: ScriptEntry): e is AnyOrder {
  return 'anyOrder' in e;
}

function describe(command: string, args: readonly string[]): string {
  return [command, ...args].join(' ');
}

function describeStep(s: ScriptStep): string {
  return s.label ?? (typeof s.args === 'function' ? `${s.command} <matcher>` : describe(s.command, s.args));
}

function matches(step: ScriptStep, command: string, args: readonly string[]): boolean {
  if (step.command !== command) return false;
  return typeof step.args === 'function' ? step.args(args) : isDeepStrictEqual([...step.args], [...args]);
}

/**
 * An Exec that plays a transcript: each call must be the next expected one (exact argv), in
 * order. It records every call with its masked argv, a log line per call as the real Exec would
 * write it (masked), and every error it threw, so tests can prove a secret never leaks.
 * An unexpected call throws (and is remembered, so assertDone fails even if the caller
 * swallowed the error); leftover steps make assertDone fail.
 */
export class ScriptedExec implements Exec {
  readonly calls: RecordedCall[] = [];
  /** One line per call, masked as the real Exec logs it. */
  readonly logLines: string[] = [];
  readonly errors: ExecError[] = [];
  readonly unexpected: string[] = [];
  private readonly queue: ScriptEntry[];

  constructor(
    steps: ScriptEntry[] = [],
    /** Shared with the fake host file system to check the order of writes and commands. */
    readonly journal: string[] = [],
  ) {
    this.queue = [...steps];
  }

  expect(...steps: ScriptEntry[]): this {
    this.queue.push(...steps);
    return this;
  }

  async run(command: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const maskedArgs = maskArgs(args, options.secrets);
    const call: RecordedCall = { command, args: [...args], maskedArgs, options };
    this.calls.push(call);
    this.journal.push(`exec ${describe(command, maskedArgs)}`);
    if (options.signal?.aborted) throw options.signal.reason instanceof Error ? options.signal.reason : new Error('aborted');

    const step = this.take(command, args);
    if (!step) {
      const head = this.queue[0];
      const expected = head ? (isAnyOrder(head) ? `one of [${head.anyOrder.map(describeStep).join(' | ')}]` : describeStep(head)) : 'nothing';
      const msg = `ScriptedExec: unexpected call #${this.calls.length}: ${describe(command, maskedArgs)}\n  expected: ${expected}`;
      this.unexpected.push(msg);
      throw new Error(msg);
    }
    for (const s of step.secrets ?? []) {
      if (!options.secrets?.includes(s)) {
        const msg = `ScriptedExec: ${describe(command, maskedArgs)} was not given secret #${(step.secrets ?? []).indexOf(s)} to mask`;
        this.unexpected.push(msg);
        throw new Error(msg);
      }
    }
    if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
    if (step.onCall) await step.onCall(args, options);

    if (step.fail) {
      const err = makeExecError(command, args, options.secrets, {
        timedOut: step.fail.timedOut,
        reason: step.fail.reason ?? 'cannot start',
        stderr: step.fail.stderr,
      });
      this.logLines.push(`${describe(command, maskedArgs)} -> ${step.fail.timedOut ? 'timeout' : 'failed'}`);
      this.errors.push(err);
      throw err;
    }
    const exitCode = step.result?.exitCode ?? 0;
    call.exitCode = exitCode;
    const stdout = step.result?.stdout ?? '';
    const stderr = step.result?.stderr ?? '';
    this.logLines.push(`${describe(command, maskedArgs)} -> exit ${exitCode}`);
    if (exitCode !== 0 && !(options.okExitCodes ?? []).includes(exitCode)) {
      const err = makeExecError(command, args, options.secrets, { exitCode, stderr });
      this.errors.push(err);
      throw err;
    }
    return { exitCode, stdout, stderr };
  }

  private take(command: string, args: readonly string[]): ScriptStep | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    if (!isAnyOrder(head)) {
      if (!matches(head, command, args)) return undefined;
      this.queue.shift();
      return head;
    }
    const i = head.anyOrder.findIndex((s) => matches(s, command, args));
    if (i < 0) return undefined;
    const [step] = head.anyOrder.splice(i, 1);
    if (head.anyOrder.length === 0) this.queue.shift();
    return step;
  }

  /** Steps not yet consumed. */
  get remaining(): string[] {
    return this.queue.flatMap((e) => (isAnyOrder(e) ? e.anyOrder.map(describeStep) : [describeStep(e)]));
  }

  /** Throws when a call was unexpected or an expected call did not happen. */
  assertDone(): void {
    const problems = [...this.unexpected];
    if (this.queue.length) problems.push(`ScriptedExec: ${this.remaining.length} expected call(s) did not happen:\n  ${this.remaining.join('\n  ')}`);
    if (problems.length) throw new Error(problems.join('\n'));
  }

  /** Where `secret` shows up in what the Exec layer would log or report (should be nowhere). */
  leaks(secret: string): string[] {
    const out: string[] = [];
    for (const c of this.calls) if (c.maskedArgs.some((a) => a.includes(secret))) out.push(`masked argv of ${c.command}`);
    for (const l of this.logLines) if (l.includes(secret)) out.push(`log line: ${maskText(l, [secret])}`);
    for (const e of this.errors) {
      if (e.message.includes(secret) || e.stderr.includes(secret) || e.maskedArgs.some((a) => a.includes(secret))) {
        out.push(`error: ${maskText(e.message, [secret])}`);
      }
    }
    return out;
  }

  /** The real argv of calls (what the program received). */
  argvOf(command: string): (readonly string[])[] {
    return this.calls.filter((c) => c.command === command).map((c) => c.args);
  }
}

/** Shorthand for a step. */
export function step(
  command: string,
  args: readonly string[],
  result?: Partial<ExecResult>,
  extra: Omit<ScriptStep, 'command' | 'args' | 'result'> = {},
): ScriptStep {
  return { command, args, ...(result ? { result } : {}), ...extra };
}
