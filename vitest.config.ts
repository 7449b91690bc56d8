import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Loop devices, mounts and ports are machine-wide: files run in parallel worker processes,
    // the tests inside one file run one after another.
    pool: 'forks',
    // The JSON report is what .ci/run counts ("N passed, N failed"); Vitest's own summary is for people.
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
