import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

/** A logger whose lines the test can read back. */
export function capturingLogger(level: 'trace' | 'debug' | 'info' = 'trace'): { log: Logger; lines: string[]; text(): string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ level, destination: stream }), lines, text: () => lines.join('\n') };
}
