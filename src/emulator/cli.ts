import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FaultConfigError, validateFaultConfig } from './faults.js';
import { startEmulator } from './server.js';
import type { EmulatorOptions, EmulatorQuotas } from './types.js';

/**
 * `cinder-metal-csi emulator [flags]`: serve until SIGTERM/SIGINT. Prints one line with the URLs
 * (key=value, easy to parse from a script); a bad flag is one line on stderr and exit code 2.
 */

export const EMULATOR_USAGE = `Usage: cinder-metal-csi emulator [flags]
  --port N              Cinder port (default 8776; 0 = any free port)
  --keystone-port N     also serve Keystone v3 on this port and require its tokens (default: noauth)
  --host H              listen address (default 127.0.0.1)
  --delay-ms N          delay of every status transition (default 0)
  --faults FILE         initial faults (JSON, see src/emulator/README.md)
  --state-dir DIR       where the local backend keeps its sparse files (default: a temp dir)
  --zones A,B           availability zones, the first is the default (default nova)
  --quota KEY=N         default quota, repeatable (volumes, snapshots, gigabytes, ...)
  --max-microversion V  highest microversion offered (default 3.70)
  -h, --help            this text
`;

export interface CliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** Stops the emulator like SIGTERM does (for in-process callers and tests). */
  signal?: AbortSignal;
}

class UsageError extends Error {}

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
  return parseInt(v, 10);
}

const QUOTA_KEYS = ['volumes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes', 'groups', 'per_volume_gigabytes'];

async function parse(argv: string[]): Promise<EmulatorOptions | 'help'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'keystone-port': { type: 'string' },
        host: { type: 'string' },
        'delay-ms': { type: 'string' },
        faults: { type: 'string' },
        'state-dir': { type: 'string' },
        zones: { type: 'string' },
        quota: { type: 'string', multiple: true },
        'max-microversion': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  if (values.help) return 'help';
  const opts: EmulatorOptions = {};
  const port = intFlag('port', values.port) ?? 8776;
  const ksPort = intFlag('keystone-port', values['keystone-port']);
  for (const [name, p] of [['port', port], ['keystone-port', ksPort]] as const) {
    if (p !== undefined && p > 65535) throw new UsageError(`--${name} must be at most 65535, got ${p}`);
  }
  opts.port = port;
  if (ksPort !== undefined) opts.keystonePort = ksPort;
  if (values.host !== undefined) opts.host = values.host;
  const delay = intFlag('delay-ms', values['delay-ms']);
  if (delay !== undefined) opts.delayMs = delay;
  if (values['state-dir'] !== undefined) opts.stateDir = values['state-dir'];
  if (values.zones !== undefined) {
    const zones = values.zones.split(',').map((z) => z.trim()).filter((z) => z !== '');
    if (zones.length === 0) throw new UsageError('--zones needs at least one zone name');
    opts.zones = zones;
  }
  if (values['max-microversion'] !== undefined) {
    if (!/^3\.(0|[1-9]\d*)$/.test(values['max-microversion'])) {
      throw new UsageError(`--max-microversion must look like 3.N, got "${values['max-microversion']}"`);
    }
    opts.maxMicroversion = values['max-microversion'];
  }
  if (values.quota !== undefined) {
    const quotas: EmulatorQuotas = {};
    for (const q of values.quota) {
      const m = /^(\w+)=(-1|\d+)$/.exec(q);
      if (!m || !QUOTA_KEYS.includes(m[1] ?? '')) {
        throw new UsageError(`--quota must be KEY=N with KEY one of ${QUOTA_KEYS.join(', ')}, got "${q}"`);
      }
      quotas[m[1] as keyof EmulatorQuotas] = parseInt(m[2] ?? '0', 10);
    }
    opts.quotas = quotas;
  }
  if (values.faults !== undefined) {
    let text: string;
    try {
      text = await readFile(values.faults, 'utf8');
    } catch (err) {
      throw new UsageError(`--faults: cannot read ${values.faults}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      opts.faults = validateFaultConfig(JSON.parse(text) as unknown);
    } catch (err) {
      if (err instanceof SyntaxError) throw new UsageError(`--faults: ${values.faults} is not JSON: ${err.message}`);
      if (err instanceof FaultConfigError) throw new UsageError(`--faults: ${err.message}`);
      throw err;
    }
  }
  return opts;
}

function waitForStop(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const done = (why: string): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onTerm = (): void => done('SIGTERM');
    const onInt = (): void => done('SIGINT');
    const onAbort = (): void => done('abort');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    if (signal?.aborted) done('abort');
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function runEmulatorCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let opts: EmulatorOptions | 'help';
  try {
    opts = await parse(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`cinder-metal-csi emulator: ${err.message} (see --help)\n`);
      return 2;
    }
    throw err;
  }
  if (opts === 'help') {
    stdout.write(EMULATOR_USAGE);
    return 0;
  }
  let emu;
  try {
    emu = await startEmulator(opts);
  } catch (err) {
    stderr.write(`cinder-metal-csi emulator: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  const parts = [
    `cinder=${emu.cinderUrl}`,
    `endpoint=${emu.cinderEndpoint}`,
    ...(emu.keystoneUrl ? [`keystone=${emu.keystoneUrl}`] : []),
    `project=${emu.projectId}`,
    `state-dir=${emu.stateDir}`,
  ];
  stdout.write(`cinder emulator ready: ${parts.join(' ')}\n`);
  await waitForStop(io.signal);
  await emu.stop();
  return 0;
}
