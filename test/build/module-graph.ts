import { posix } from 'node:path';
import ts from 'typescript';

/**
 * The module graph of emitted ES modules, from their text alone: which modules an entry can load.
 * Relative specifiers only ('./x.js', '../y.js'); packages and node: builtins are not ours.
 */

export interface ModuleImports {
  /** Specifiers of `import … from`, `import '…'`, `export … from` and `import('…')`. */
  specifiers: string[];
  /** `import(expr)` calls whose specifier is not a string literal: the graph cannot follow them. */
  computed: number;
}

export function importsOf(fileName: string, text: string): ModuleImports {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const specifiers: string[] = [];
  let computed = 0;
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) specifiers.push(arg.text);
      else computed++;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { specifiers, computed };
}

/**
 * False for the module TypeScript emits from a file of types alone: nothing but `export {};`
 * (and comments). Such a module holds no code, reachable or not.
 */
export function hasRuntimeCode(fileName: string, text: string): boolean {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  return source.statements.some(
    (s) => !(ts.isExportDeclaration(s) && !s.moduleSpecifier && s.exportClause && ts.isNamedExports(s.exportClause) && s.exportClause.elements.length === 0),
  );
}

export interface Reachability {
  reached: Set<string>;
  /** Relative specifiers that name no module in the set: `from` imports `specifier`. */
  missing: { from: string; specifier: string }[];
  /** Modules holding an `import()` the graph cannot follow. */
  computedImports: string[];
}

/**
 * Walks `modules` (relative path with '/' → module text) from `entry` through every static and
 * literal dynamic import.
 */
export function reachableFrom(entry: string, modules: ReadonlyMap<string, string>): Reachability {
  const reached = new Set<string>();
  const missing: Reachability['missing'] = [];
  const computedImports: string[] = [];
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (reached.has(file)) continue;
    const text = modules.get(file);
    if (text === undefined) throw new Error(`no module ${file}`);
    reached.add(file);
    const { specifiers, computed } = importsOf(file, text);
    if (computed > 0) computedImports.push(file);
    for (const specifier of specifiers.filter((s) => s.startsWith('./') || s.startsWith('../'))) {
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (modules.has(target)) pending.push(target);
      else missing.push({ from: file, specifier });
    }
  }
  return { reached, missing, computedImports };
}
