import type { StepReporter } from './lifecycle.js';

/**
 * One line per step with its duration; while a step takes long a dotted progress line shows it
 * is alive. Writes to a stream (stdout) rather than the logger: this is for a person.
 */
export function terminalReporter(out: NodeJS.WritableStream = process.stdout): StepReporter & { stop(): void } {
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  let timer: NodeJS.Timeout | undefined;
  const clearTimer = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return {
    start(step) {
      clearTimer();
      if (tty) {
        out.write(`  … ${step}`);
        timer = setInterval(() => out.write('.'), 500);
      }
    },
    progress(step, note) {
      if (!tty) out.write(`  … ${step}: ${note}\n`);
    },
    end(step, ms, detail) {
      clearTimer();
      if (tty) out.write('\r\x1b[2K');
      const time = ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
      out.write(`  ✔ ${step.padEnd(52)} ${time.padStart(9)}${detail ? `  ${detail}` : ''}\n`);
    },
    stop: clearTimer,
  };
}
