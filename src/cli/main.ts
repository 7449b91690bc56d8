#!/usr/bin/env node
import { startApp } from '../app/app.js';
import { createLogger } from '../log/logger.js';
import { enableDefaultMetrics } from '../util/metrics.js';
import { packageInfo } from '../util/package-info.js';
import { parseCli, UsageError, USAGE } from './args.js';

/**
 * Entry point. Flags → options → app; SIGTERM/SIGINT → graceful shutdown (stop accepting, let
 * in-flight RPCs finish within the grace period, remove the socket, exit 0).
 */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'emulator') {
    const { runEmulatorCli } = await import('../emulator/index.js');
    return runEmulatorCli(argv.slice(1));
  }
  if (argv[0] === 'demo') {
    const { runDemo } = await import('../demo/main.js');
    return runDemo(argv.slice(1));
  }
  let parsed;
  try {
    parsed = parseCli(argv, process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`cinder-metal-csi: ${err.message} (see --help)\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${packageInfo().version}\n`);
    return 0;
  }
  const options = parsed.options;
  const log = createLogger({ level: options.logLevel });
  enableDefaultMetrics();
  let app;
  try {
    app = await startApp(options, log);
  } catch (err) {
    log.fatal({ err }, 'cannot start');
    process.stderr.write(`cinder-metal-csi: ${(err as Error).message}\n`);
    return 1;
  }
  const running = app;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info({ signal, inflight: running.server.inflight.size }, 'shutting down');
      running
        .stop(options.shutdownGraceSeconds * 1000)
        .then(({ drained }) => {
          log.info({ drained }, 'stopped');
          resolve(0);
        })
        .catch((err: unknown) => {
          log.error({ err }, 'shutdown failed');
          resolve(1);
        });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    // Exit explicitly: idle keep-alive sockets to Cinder must not hold a stopped plugin open.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`cinder-metal-csi: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
