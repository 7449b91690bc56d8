import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from '../../src/util/package-info.js';

/**
 * What the shipped sources (tsconfig.build.json: src/ without tests) declare for others but no
 * other shipped file uses: exports, and public methods of classes and interfaces. Such a thing
 * is dead code, or code kept alive by tests alone; either way it should not ship. Uses are found
 * through the type checker, so barrels, renamed, namespace and dynamic imports, and calls through
 * an interface a class implements all count for the declaration they lead to.
 */

export interface Unused {
  file: string;
  /** `name` for an export, `Type.member` for a member. */
  name: string;
  /** Used inside its own file, only not from outside: the `export` (or `public`) is superfluous. */
  usedInFile: boolean;
}

function buildProgram(configPath: string): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(configPath, undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error(`cannot read ${configPath}`);
  return ts.createProgram({ rootNames: config.fileNames, options: config.options });
}

const isShipped = (sf: ts.SourceFile): boolean => !sf.isDeclarationFile && !sf.fileName.includes('/node_modules/');
const fileOf = (node: ts.Node): string => relative(PACKAGE_ROOT, node.getSourceFile().fileName).split(sep).join('/');

/** An identifier in an import or export list names a symbol without using it. */
function inImportOrExportList(id: ts.Identifier): boolean {
  const p = id.parent;
  return ts.isImportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p) || ts.isExportSpecifier(p);
}

const declares = (symbol: ts.Symbol, id: ts.Identifier): boolean =>
  (symbol.declarations ?? []).some((d) => (d as ts.NamedDeclaration).name === id);

/**
 * The symbol an identifier uses, if it uses one (a declaration's own name does not). In
 * `const { a: b } = await import('./m.js')` the name is taken from the module's namespace, so it
 * stands for m's export `a`, not for a local; in `{ a }` the shorthand uses the variable `a`.
 */
function usedSymbol(checker: ts.TypeChecker, id: ts.Identifier): ts.Symbol | undefined {
  const p = id.parent;
  let symbol: ts.Symbol | undefined;
  if (ts.isBindingElement(p) && ts.isObjectBindingPattern(p.parent) && (p.propertyName ?? p.name) === id) {
    symbol = checker.getTypeAtLocation(p.parent).getProperty(id.text);
  } else if (ts.isShorthandPropertyAssignment(p)) {
    symbol = checker.getShorthandAssignmentValueSymbol(p);
  } else if (!inImportOrExportList(id)) {
    symbol = checker.getSymbolAtLocation(id);
    if (symbol && declares(symbol, id)) symbol = undefined;
  }
  return symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

/** Every declaration some shipped file uses → the files that use it. */
function collectUses(checker: ts.TypeChecker, files: readonly ts.SourceFile[]): Map<ts.Node, Set<string>> {
  const uses = new Map<ts.Node, Set<string>>();
  for (const sf of files) {
    const file = fileOf(sf);
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) {
        // A member of a mapped type (Pick<T, 'm'>) is a symbol of its own whose declaration is T's.
        for (const d of usedSymbol(checker, node)?.declarations ?? []) {
          const users = uses.get(d) ?? new Set<string>();
          users.add(file);
          uses.set(d, users);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return uses;
}

/**
 * The name of a public method, property or accessor of a class, or of a method of an interface
 * (an interface's properties are data shapes, filled in by object literals); else undefined.
 */
function publicMemberName(m: ts.Node): string | undefined {
  if (!(ts.isMethodDeclaration(m) || ts.isPropertyDeclaration(m) || ts.isGetAccessor(m) || ts.isSetAccessor(m) || ts.isMethodSignature(m))) return undefined;
  if (!ts.isIdentifier(m.name)) return undefined;
  return ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) ? undefined : m.name.text;
}

/**
 * The declarations a class member answers for: the same-named members of the types it extends or
 * implements. A call through the interface uses the class's method, and a member that serves a
 * type declared outside the shipped sources (a library's interface) is used by that library.
 */
function counterparts(checker: ts.TypeChecker, owner: ts.ClassLikeDeclaration | ts.InterfaceDeclaration, name: string): ts.Node[] {
  const out: ts.Node[] = [];
  for (const clause of owner.heritageClauses ?? []) {
    for (const t of clause.types) out.push(...(checker.getTypeAtLocation(t).getProperty(name)?.declarations ?? []));
  }
  return out;
}

/** `configPath`: the tsconfig whose files ship; `skip`: files (relative to the repository) not judged. */
export function findUnused(configPath = join(PACKAGE_ROOT, 'tsconfig.build.json'), skip: (file: string) => boolean = () => false): Unused[] {
  const program = buildProgram(configPath);
  const checker = program.getTypeChecker();
  const files = program.getSourceFiles().filter(isShipped);
  const uses = collectUses(checker, files);
  const usersOf = (decls: readonly ts.Node[]): Set<string> => new Set(decls.flatMap((d) => [...(uses.get(d) ?? [])]));
  const verdict = (file: string, name: string, users: Set<string>): Unused | undefined =>
    [...users].some((u) => u !== file) ? undefined : { file, name, usedInFile: users.has(file) };

  // Class members that implement an interface member: a use of either is a use of both.
  const implementers = new Map<ts.Node, ts.Node[]>();
  const owners: (ts.ClassLikeDeclaration | ts.InterfaceDeclaration)[] = [];
  for (const sf of files) {
    const visit = (node: ts.Node): void => {
      if (ts.isClassLike(node) || ts.isInterfaceDeclaration(node)) owners.push(node);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  for (const owner of owners.filter(ts.isClassLike)) {
    for (const m of owner.members) {
      const name = publicMemberName(m);
      if (name === undefined) continue;
      for (const c of counterparts(checker, owner, name)) implementers.set(c, [...(implementers.get(c) ?? []), m]);
    }
  }

  const unused: Unused[] = [];
  for (const sf of files) {
    const file = fileOf(sf);
    if (skip(file)) continue;
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    for (const exported of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
      // A re-export (barrel) is judged where the original is declared.
      if (exported.flags & ts.SymbolFlags.Alias) continue;
      const found = verdict(file, exported.getName(), usersOf(exported.declarations ?? []));
      if (found) unused.push(found);
    }
  }
  for (const owner of owners) {
    const file = fileOf(owner);
    if (skip(file) || !owner.name) continue;
    for (const m of owner.members) {
      const name = publicMemberName(m);
      if (name === undefined) continue;
      const linked = ts.isClassLike(owner) ? counterparts(checker, owner, name) : (implementers.get(m) ?? []);
      if (linked.some((d) => !isShipped(d.getSourceFile()))) continue;
      const found = verdict(file, `${owner.name.text}.${name}`, usersOf([m, ...linked]));
      if (found) unused.push(found);
    }
  }
  return unused.sort((a, b) => a.file.localeCompare(b.file) || a.name.localeCompare(b.name));
}
