import { pino, type Logger as PinoLogger, type LevelWithSilent, type DestinationStream } from 'pino';
import { redact } from './redact.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Where lines go; tests pass a stream that collects them. Default: stderr. */
  destination?: NodeJS.WritableStream;
  name?: string;
}

/**
 * One structured logger for the process. Every object logged goes through redact(), so a secret
 * cannot reach a log line even when a caller forgets.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  return pino(
    {
      name: options.name ?? 'cinder-metal-csi',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redact(obj) as Record<string, unknown>,
      },
      serializers: { err: (e: unknown) => redact(e) },
    },
    destination as DestinationStream,
  );
}

/** A logger that writes nothing: for tests and library use. */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' });
}
