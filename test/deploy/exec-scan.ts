import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/**
 * Finds every program the driver runs through the `Exec` seam (src/host/exec.ts), so the
 * Dockerfile test can check that the runtime image ships each one.
 *
 * It uses the TypeScript type checker rather than a regular expression: a call counts when it
 * is `<anything>.run(...)` and the resolved `run` is `Exec.run` or a method of a class that
 * implements `Exec`, whatever the receiver is called (`this.exec`, `deps.host`, a destructured
 * variable ...). The first argument is then evaluated to the set of strings it can be:
 *   - string literals and templates (`mkfs.${fsType}` expands with the literal union type of
 *     `fsType` at that point, narrowed by the surrounding `switch`);
 *   - identifiers whose type is a string literal or a union of them;
 *   - identifiers bound to an initializer, including `const { command } = mkfsArgv(...)`: the
 *     called function's `return { command: ... }` statements are followed;
 *   - conditional expressions (both branches).
 * A call whose program cannot be resolved this way is reported, so a new indirect call fails the
 * test loudly instead of slipping past it.
 */
export interface ExecCall {
  file: string;
  line: number;
  programs: string[];
  unresolved?: string;
}

export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'generated') walk(p);
      } else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) {
        out.push(p);
      }
    }
  };
  walk(root);
  return out.sort();
}

export function scanExecCalls(repoRoot: string): ExecCall[] {
  const srcRoot = join(repoRoot, 'src');
  const files = sourceFiles(srcRoot);
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const calls: ExecCall[] = [];

  for (const sf of program.getSourceFiles()) {
    if (!files.includes(sf.fileName) && !files.includes(join(sf.fileName))) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && isExecRun(node, checker)) {
        const { line } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
        const arg = node.arguments[0];
        const where = { file: relative(repoRoot, sf.fileName), line: line + 1 };
        const values = arg ? possibleStrings(arg, checker, 0) : undefined;
        if (values && values.length > 0) calls.push({ ...where, programs: [...new Set(values)].sort() });
        else calls.push({ ...where, programs: [], unresolved: arg ? arg.getText(sf) : '(no argument)' });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return calls;
}

/** `x.run(...)` where `run` is Exec.run or the run method of a class implementing Exec. */
function isExecRun(call: ts.CallExpression, checker: ts.TypeChecker): boolean {
  const callee = call.expression;
  if (!ts.isPropertyAccessExpression(callee) || callee.name.text !== 'run') return false;
  const decl = checker.getResolvedSignature(call)?.getDeclaration();
  if (!decl) return false;
  const owner = decl.parent;
  if (ts.isInterfaceDeclaration(owner)) return owner.name.text === 'Exec';
  if (ts.isClassDeclaration(owner) || ts.isClassExpression(owner)) {
    return (owner.heritageClauses ?? []).some(
      (h) => h.token === ts.SyntaxKind.ImplementsKeyword && h.types.some((t) => t.expression.getText() === 'Exec'),
    );
  }
  // An object literal typed as Exec: `const exec: Exec = { run: ... }`.
  if (ts.isObjectLiteralExpression(owner)) {
    const t = checker.getContextualType(owner);
    return t?.getSymbol()?.getName() === 'Exec';
  }
  return false;
}

const MAX_DEPTH = 8;

/** Every string the expression can evaluate to, or undefined when that cannot be told. */
function possibleStrings(expr: ts.Expression, checker: ts.TypeChecker, depth: number): string[] | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr) || ts.isSatisfiesExpression(expr)) {
    return possibleStrings(expr.expression, checker, depth + 1);
  }
  if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr)) return [expr.text];
  if (ts.isConditionalExpression(expr)) {
    const a = possibleStrings(expr.whenTrue, checker, depth + 1);
    const b = possibleStrings(expr.whenFalse, checker, depth + 1);
    return a && b ? [...a, ...b] : undefined;
  }
  if (ts.isTemplateExpression(expr)) {
    let acc = [expr.head.text];
    for (const span of expr.templateSpans) {
      const parts = possibleStrings(span.expression, checker, depth + 1);
      if (!parts) return undefined;
      acc = acc.flatMap((a) => parts.map((p) => a + p + span.literal.text));
    }
    return acc;
  }
  const fromType = literalStrings(checker.getTypeAtLocation(expr));
  if (fromType) return fromType;
  if (ts.isIdentifier(expr)) return fromDeclaration(expr, checker, depth);
  if (ts.isPropertyAccessExpression(expr)) {
    const sym = checker.getSymbolAtLocation(expr);
    const decl = sym?.valueDeclaration;
    if (decl && (ts.isPropertyAssignment(decl) || ts.isPropertyDeclaration(decl)) && decl.initializer) {
      return possibleStrings(decl.initializer, checker, depth + 1);
    }
  }
  return undefined;
}

function literalStrings(type: ts.Type): string[] | undefined {
  const parts = type.isUnion() ? type.types : [type];
  const out: string[] = [];
  for (const t of parts) {
    if (t.isStringLiteral()) out.push(t.value);
    else return undefined;
  }
  return out.length > 0 ? out : undefined;
}

function fromDeclaration(id: ts.Identifier, checker: ts.TypeChecker, depth: number): string[] | undefined {
  const sym = checker.getSymbolAtLocation(id);
  const decl = sym?.valueDeclaration ?? sym?.declarations?.[0];
  if (!decl) return undefined;
  if (ts.isVariableDeclaration(decl) && decl.initializer) return possibleStrings(decl.initializer, checker, depth + 1);
  if (ts.isBindingElement(decl)) {
    // const { command } = f(...)  →  the `command` property of f's returned object literals.
    const pattern = decl.parent;
    const holder = pattern.parent;
    if (ts.isObjectBindingPattern(pattern) && ts.isVariableDeclaration(holder) && holder.initializer) {
      const key = (decl.propertyName ?? decl.name).getText();
      return propertyOfReturned(holder.initializer, key, checker, depth + 1);
    }
  }
  return undefined;
}

function propertyOfReturned(init: ts.Expression, key: string, checker: ts.TypeChecker, depth: number): string[] | undefined {
  let e = init;
  while (ts.isAwaitExpression(e) || ts.isParenthesizedExpression(e)) e = e.expression;
  if (ts.isObjectLiteralExpression(e)) return propertyOfObject(e, key, checker, depth);
  if (!ts.isCallExpression(e)) return undefined;
  const decl = checker.getResolvedSignature(e)?.getDeclaration();
  if (!decl || !('body' in decl) || !decl.body || !ts.isBlock(decl.body as ts.Node)) return undefined;
  const out: string[] = [];
  let ok = true;
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && n !== decl) return; // returns of nested functions are not ours
    if (ts.isReturnStatement(n) && n.expression) {
      const v = ts.isObjectLiteralExpression(n.expression) ? propertyOfObject(n.expression, key, checker, depth) : undefined;
      if (v) out.push(...v);
      else ok = false;
    }
    ts.forEachChild(n, visit);
  };
  ts.forEachChild(decl.body as ts.Node, visit);
  return ok && out.length > 0 ? out : undefined;
}

function propertyOfObject(obj: ts.ObjectLiteralExpression, key: string, checker: ts.TypeChecker, depth: number): string[] | undefined {
  for (const p of obj.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === key) return possibleStrings(p.initializer, checker, depth + 1);
    if (ts.isShorthandPropertyAssignment(p) && p.name.text === key) return possibleStrings(p.name, checker, depth + 1);
  }
  return undefined;
}
