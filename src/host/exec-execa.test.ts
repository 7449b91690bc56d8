import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/helpers/log-capture.js';

import { ExecError } from './exec.js';
import { ProgramMissingError } from './host-programs.js';
import { ExecaExec, hostArgv, makeExecError } from './exec-execa.js';

const NODE = process.execPath;
const SECRET = 'S3cret-Value-0f9a';

describe('ExecaExec (real processes)', () => {
  it('runs an argv without a shell and returns stdout, stderr and the exit code', async () => {
    const exec = new ExecaExec();
    const r = await exec.run(NODE, ['-e', 'process.stdout.write(process.argv[1]); process.stderr.write("e")', '$(echo no) ; `x` *']);
    expect(r).toEqual({ exitCode: 0, stdout: '$(echo no) ; `x` *', stderr: 'e' });
  });

  it('accepts listed exit codes and throws ExecError for others, with secrets masked in message and stderr', async () => {
    const { log, text } = capturingLogger('debug');
    const exec = new ExecaExec({ log });
    const r = await exec.run(NODE, ['-e', 'process.exit(21)'], { okExitCodes: [21] });
    expect(r.exitCode).toBe(21);

    const err = await exec
      .run(NODE, ['-e', 'console.error("bad password " + process.argv[1]); process.exit(3)', SECRET], { secrets: [SECRET] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    const e = err as ExecError;
    expect(e.exitCode).toBe(3);
    expect(e.timedOut).toBe(false);
    expect(e.message).toContain('exited with code 3');
    expect(e.message).toContain('bad password ***');
    expect(e.maskedArgs).toContain('***');
    expect(`${e.message}${e.stderr}${e.maskedArgs.join(' ')}`).not.toContain(SECRET);
    // one debug line per command, masked, with duration and exit code
    const lines = text().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ msg: 'exec', cmd: NODE, exitCode: 3 });
    expect(typeof lines[1]?.durationMs).toBe('number');
    expect(text()).not.toContain(SECRET);
  });

  it('passes input and extra environment', async () => {
    const exec = new ExecaExec();
    const r = await exec.run(NODE, ['-e', 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(s+process.env.CMC_X))'], {
      input: 'in-',
      env: { CMC_X: 'env' },
    });
    expect(r.stdout).toBe('in-env');
  });

  it('gives stdin nothing when there is no input (a prompt does not hang)', async () => {
    const exec = new ExecaExec({ defaultTimeoutMs: 5_000 });
    const r = await exec.run(NODE, ['-e', 'let n=0;process.stdin.on("data",d=>n+=d.length).on("end",()=>process.stdout.write(String(n)))']);
    expect(r.stdout).toBe('0');
  });

  it('kills a command at its timeout and says so', async () => {
    const exec = new ExecaExec();
    const started = Date.now();
    const err = await exec.run(NODE, ['-e', 'setTimeout(()=>{}, 10000)'], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).timedOut).toBe(true);
    expect((err as ExecError).message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops the command when the caller aborts, rejecting with the abort reason', async () => {
    const exec = new ExecaExec();
    const ac = new AbortController();
    const reason = new Error('deadline');
    reason.name = 'DeadlineExceeded';
    setTimeout(() => ac.abort(reason), 100);
    const started = Date.now();
    await expect(exec.run(NODE, ['-e', 'setTimeout(()=>{}, 10000)'], { signal: ac.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(exec.run(NODE, ['-e', ''], { signal: ac.signal })).rejects.toBe(reason);
  });

  it('a program that is not installed is FAILED_PRECONDITION naming it and its Debian package', async () => {
    const err = await new ExecaExec().run('cmc-no-such-program', ['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgramMissingError);
    expect((err as ProgramMissingError).kind).toBe('precondition');
    expect((err as Error).message).toBe('cmc-no-such-program is not installed on this node');
    // A known program names its package (the table the image test uses).
    expect(new ProgramMissingError('mkfs.xfs').message).toBe('mkfs.xfs is not installed on this node (Debian package xfsprogs)');
  });

  it('a program that runs and fails for its own reasons is not taken for a missing one', async () => {
    const err = await new ExecaExec().run(NODE, ['-e', 'console.error("No such file or directory"); process.exit(127)']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).exitCode).toBe(127);
  });
});

describe.skipIf(process.getuid?.() !== 0)('a missing program through the chroot and nsenter wrappers (root)', () => {
  it('chroot: the wrapper says it could not run the command', async () => {
    const err = await new ExecaExec({ mode: 'chroot', hostRoot: '/' }).run('cmc-no-such-program', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgramMissingError);
    expect((err as Error).message).toContain('cmc-no-such-program is not installed');
  });

  it('nsenter: the wrapper says it could not execute the command', async () => {
    const err = await new ExecaExec({ mode: 'nsenter', nsenterProc: '/proc/self' }).run('cmc-no-such-program', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProgramMissingError);
  });
});

describe('host modes', () => {
  it('direct runs the command itself', () => {
    expect(hostArgv('mount', ['-t', 'ext4'], 'direct')).toEqual({ file: 'mount', args: ['-t', 'ext4'] });
  });

  it('chroot runs it under the host root', () => {
    expect(hostArgv('iscsiadm', ['-m', 'session'], 'chroot')).toEqual({ file: 'chroot', args: ['/host', 'iscsiadm', '-m', 'session'] });
    expect(hostArgv('iscsiadm', [], 'chroot', { hostRoot: '/rootfs' }).args[0]).toBe('/rootfs');
  });

  it('nsenter enters mount, UTS, IPC and net namespaces of PID 1, or of a given /proc entry', () => {
    expect(hostArgv('iscsiadm', ['-m', 'session'], 'nsenter')).toEqual({
      file: 'nsenter',
      args: ['--target', '1', '--mount', '--uts', '--ipc', '--net', '--', 'iscsiadm', '-m', 'session'],
    });
    expect(hostArgv('mount', [], 'nsenter', { nsenterProc: '/host/proc/1' }).args).toEqual([
      '--mount=/host/proc/1/ns/mnt',
      '--uts=/host/proc/1/ns/uts',
      '--ipc=/host/proc/1/ns/ipc',
      '--net=/host/proc/1/ns/net',
      '--',
      'mount',
    ]);
  });

  it('chroot mode really wraps the call (and errors still name the logical command)', async () => {
    // `chroot` needs root and a root file system; a missing host root shows the wrapping.
    const exec = new ExecaExec({ mode: 'chroot', hostRoot: '/cmc-no-such-root' });
    const err = await exec.run('true', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect((err as ExecError).command).toBe('true');
    expect((err as ExecError).stderr).toMatch(/cmc-no-such-root|chroot/);
  });
});

describe('makeExecError', () => {
  it('truncates long stderr from the front and masks every secret', () => {
    const e = makeExecError('x', ['-v', SECRET], [SECRET], { exitCode: 1, stderr: `${'a'.repeat(5000)}${SECRET}END` }, 100);
    expect(e.stderr.length).toBeLessThanOrEqual(101);
    expect(e.stderr.endsWith('***END')).toBe(true);
    expect(e.message).toContain('x -v ***');
    expect(e.message).not.toContain(SECRET);
  });
});
