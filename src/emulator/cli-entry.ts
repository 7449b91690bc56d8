/** Runs the emulator CLI directly (`npx tsx src/emulator/cli-entry.ts --port 0`), used by the CLI test. */
import { runEmulatorCli } from './cli.js';

process.exitCode = await runEmulatorCli(process.argv.slice(2));
