import { readFileSync } from 'node:fs';

/**
 * The real-Cinder tier's switch: the env file written by test/real-cinder/up.sh, named by
 * REAL_CINDER_ENV. Without it the tier is skipped (one console line says so and how to enable it).
 * The file is read here rather than trusting process.env, so a test run started with just
 * REAL_CINDER_ENV=<file> (not sourced) works too.
 */
export interface RealCinderEnv {
  file: string;
  mode: 'noauth' | 'keystone';
  vars: Readonly<Record<string, string>>;
  /** A variable the harness always writes for this mode; throws (naming the file) when absent. */
  get(name: string): string;
  opt(name: string): string | undefined;
}

export const ENABLE_HINT =
  'enable it with: sudo test/real-cinder/up.sh [--keystone] && REAL_CINDER_ENV=/tmp/real-cinder/env.sh npm test ' +
  '(or: test/real-cinder/ci-tier.sh noauth -- npm test)';

/** `export NAME='value'` lines (the only form up.sh writes); comments and blank lines ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)='([^']*)'\s*(?:#.*)?$/.exec(line);
    if (m) vars[m[1] as string] = m[2] as string;
  }
  return vars;
}

export type Loaded = { env: RealCinderEnv } | { skipped: string };

export function loadRealCinderEnv(source: NodeJS.ProcessEnv = process.env): Loaded {
  const file = source.REAL_CINDER_ENV;
  if (!file) return { skipped: 'REAL_CINDER_ENV is not set' };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { skipped: `REAL_CINDER_ENV=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
  const vars = parseEnvFile(text);
  const mode = vars.REAL_CINDER_MODE ?? vars.CINDER_AUTH;
  if (mode !== 'noauth' && mode !== 'keystone') return { skipped: `${file} does not say REAL_CINDER_MODE=noauth|keystone` };
  return {
    env: {
      file,
      mode,
      vars,
      get(name) {
        const v = vars[name];
        if (v === undefined || v === '') throw new Error(`${file} has no ${name}; re-run test/real-cinder/up.sh`);
        return v;
      },
      opt: (name) => vars[name] || undefined,
    },
  };
}

let noted = false;
/** Loads the env once per test file and prints the single "skipped" line when it is absent. */
export function realCinderEnvOrNote(): RealCinderEnv | undefined {
  const loaded = loadRealCinderEnv();
  if ('env' in loaded) return loaded.env;
  if (!noted) {
    noted = true;
    console.log(`real-Cinder tier skipped: ${loaded.skipped}; ${ENABLE_HINT}`);
  }
  return undefined;
}
