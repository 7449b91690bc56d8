import { describe, expect, it } from 'vitest';
import { emitBuild } from './emit-build.js';
import { hasRuntimeCode, importsOf, reachableFrom } from './module-graph.js';

/**
 * Nothing test-only ships: every module the build puts in dist/ must be loadable from the CLI
 * entry (the package's bin and the image's ENTRYPOINT). A module no import reaches is dead
 * weight at best and test support at worst; it belongs under test/ or nowhere.
 */
const ENTRY = 'cli/main.js';
const GENERATED = 'generated/';

describe('the module graph reader', () => {
  it('follows static, re-export, side-effect and literal dynamic imports, and nothing in comments or strings', () => {
    const text = [
      "import { a } from './a.js';",
      "export { b } from '../b.js';",
      "export * from './c.js';",
      "import './d.js';",
      "const { e } = await import('./e.js');",
      'const f = await import(`./f.js`);',
      "// import { g } from './g.js';",
      "const h = \"import('./h.js')\";",
      "import { readFile } from 'node:fs/promises';",
    ].join('\n');
    expect(importsOf('x.js', text)).toEqual({ specifiers: ['./a.js', '../b.js', './c.js', './d.js', './e.js', './f.js', 'node:fs/promises'], computed: 0 });
    expect(importsOf('x.js', 'const m = await import(name);').computed).toBe(1);
  });

  it('tells a module of types alone (emitted as `export {};`) from one with code', () => {
    expect(hasRuntimeCode('t.js', '/** Types. */\nexport {};\n//# sourceMappingURL=t.js.map')).toBe(false);
    expect(hasRuntimeCode('t.js', 'export {};\nconsole.log(1);')).toBe(true);
    expect(hasRuntimeCode('t.js', 'export { a };\nconst a = 1;')).toBe(true);
    expect(hasRuntimeCode('t.js', "export {} from './x.js';")).toBe(true);
    expect(hasRuntimeCode('t.js', 'export const a = 1;')).toBe(true);
  });

  it('reaches modules through relative paths and reports the ones it leaves and the ones it cannot find', () => {
    const modules = new Map([
      ['cli/main.js', "import '../app/app.js'; if (x) await import('../demo/main.js');"],
      ['app/app.js', "export * from './options.js'; import 'pino';"],
      ['app/options.js', "import './gone.js';"],
      ['demo/main.js', 'await import(which);'],
      ['cinder/testing.js', "import './http.js';"],
      ['cinder/http.js', ''],
    ]);
    const r = reachableFrom('cli/main.js', modules);
    expect([...r.reached].sort()).toEqual(['app/app.js', 'app/options.js', 'cli/main.js', 'demo/main.js']);
    expect(r.missing).toEqual([{ from: 'app/options.js', specifier: './gone.js' }]);
    expect(r.computedImports).toEqual(['demo/main.js']);
  });
});

describe('dist/', () => {
  const modules = emitBuild();
  const graph = reachableFrom(ENTRY, modules);

  it(`holds the entry ${ENTRY} and every module it imports`, () => {
    expect(modules.has(ENTRY)).toBe(true);
    expect(graph.missing).toEqual([]);
    // Sanity of the walk: the driver's layers are all there.
    for (const m of ['app/app.js', 'cinder/index.js', 'emulator/index.js', 'demo/main.js', 'services/node/index.js']) expect(graph.reached).toContain(m);
  });

  it('has no import() the graph cannot follow', () => {
    expect(graph.computedImports).toEqual([]);
  });

  // Files of types alone (message types, dependency interfaces) emit an empty module that nothing
  // loads at run time; it holds no code, so it does not count. generated/ is proto-loader-gen-types'
  // output for proto/csi.proto: the driver imports only its types (the services are built from
  // src/csi/csi-descriptor.ts at run time), but the generator writes each enum as a value table too, which tsc emits.
  it(`holds no module with code that ${ENTRY} cannot reach`, () => {
    const unreachable = [...modules]
      .filter(([m, text]) => !graph.reached.has(m) && !m.startsWith(GENERATED) && hasRuntimeCode(m, text))
      .map(([m]) => m);
    expect(unreachable.sort(), 'move test support under test/ or delete dead modules').toEqual([]);
  });
});
