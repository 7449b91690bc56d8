import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from '../../src/util/package-info.js';

/**
 * What `npm run build` writes to dist/, emitted in memory from tsconfig.build.json: the
 * JavaScript modules by their path under the output directory ('cli/main.js'). A dist/ left
 * over from an older build may hold more; this is what a clean build ships.
 */
export function emitBuild(): Map<string, string> {
  const configPath = join(PACKAGE_ROOT, 'tsconfig.build.json');
  const config = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error(`cannot read ${configPath}`);
  const outDir = config.options.outDir;
  if (!outDir) throw new Error(`${configPath} names no outDir`);
  const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, sourceMap: false } });
  const modules = new Map<string, string>();
  const result = program.emit(undefined, (fileName, text) => {
    if (fileName.endsWith('.js')) modules.set(relative(outDir, fileName).split(sep).join('/'), text);
  });
  if (result.emitSkipped) throw new Error('the build emitted nothing');
  return modules;
}
