import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The import-direction rule of eslint.config.js is active: an upward import fails the lint. */
describe('layering lint rule', () => {
  const eslint = new ESLint({ cwd: ROOT });
  const lint = async (file: string, code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  };

  it.each([
    ['src/host/probe.ts', "import { nodeStage } from '../services/node/stage.js';\nexport const x = nodeStage;\n"],
    ['src/brick/rbd/probe.ts', "import { mapError } from '../../csi/error-map.js';\nexport const x = mapError;\n"],
    ['src/services/node/probe.ts', "import { startApp } from '../../app/app.js';\nexport const x = startApp;\n"],
    ['src/emulator/probe.ts', "import { errorMessage } from '../util/errors.js';\nexport const x = errorMessage;\n"],
    ['src/services/controller/probe.ts', "import type { Volume } from '../../generated/csi/v1/Volume.js';\nexport type X = Volume;\n"],
  ])('refuses an upward import in %s', async (file, code) => {
    const errors = await lint(file, code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('imports go down the layers');
  });

  it('accepts a downward import', async () => {
    expect(await lint('src/services/node/probe.ts', "import { errorMessage } from '../../util/errors.js';\nexport const x = errorMessage;\n")).toEqual([]);
  });
});
