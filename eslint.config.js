import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Every top-level folder of src/ except the emulator's. */
const DRIVER = ['app', 'brick', 'cinder', 'cli', 'config', 'csi', 'demo', 'generated', 'host', 'kube', 'log', 'services', 'util'];

/** One no-restricted-imports block per folder of src/: the folders it must not import from. */
function layerRules(forbidden) {
  return Object.entries(forbidden).map(([folder, below]) => ({
    files: [`src/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(${below.join('|')})(/|$)`,
              message: `src/${folder} may not import from ${below.join(', ')}: imports go down the layers (eslint.config.js)`,
            },
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/generated/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  // The layers of src/ (docs/architecture.md): cli and demo → app → csi → services →
  // {cinder, brick} → host → util → log; config and kube beside them. An import may only go
  // down, and generated/ (the proto types) is reached from csi/ only. The emulator is a
  // separate program that imports nothing from the driver.
  ...layerRules({
    util: [...DRIVER.filter((f) => f !== 'util' && f !== 'log'), 'emulator'],
    log: [...DRIVER.filter((f) => f !== 'log'), 'emulator'],
    host: ['app', 'cli', 'demo', 'csi', 'services', 'cinder', 'brick', 'kube', 'config', 'emulator', 'generated'],
    config: ['app', 'cli', 'demo', 'csi', 'services', 'cinder', 'brick', 'kube', 'host', 'emulator', 'generated'],
    kube: ['app', 'cli', 'demo', 'csi', 'services', 'cinder', 'brick', 'emulator', 'generated'],
    brick: ['app', 'cli', 'demo', 'csi', 'services', 'cinder', 'emulator', 'generated'],
    // cinder parses connection_info into brick's connection types (types only).
    cinder: ['app', 'cli', 'demo', 'csi', 'services', 'emulator', 'generated'],
    // The proto types stop at the gRPC edge: services take and give their own types.
    services: ['app', 'cli', 'demo', 'csi', 'emulator', 'generated'],
    csi: ['app', 'cli', 'demo', 'emulator'],
    app: ['cli', 'demo', 'emulator', 'generated'],
    // The demo starts the embedded emulator next to the driver (it ships with it).
    cli: ['generated'],
    demo: ['generated'],
    emulator: DRIVER,
  }),
  {
    files: ['test/**', 'sanity/**', '**/*.test.ts', 'scripts/**'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
