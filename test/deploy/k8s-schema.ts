import { join } from 'node:path';
import ts from 'typescript';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1/CSIDriver';
import { StorageClass } from 'kubernetes-models/storage.k8s.io/v1/StorageClass';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Secret } from 'kubernetes-models/v1/Secret';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Pod } from 'kubernetes-models/v1/Pod';
import { REPO_ROOT, type K8sObject } from './manifests.js';

/**
 * Validation against the Kubernetes API schemas, with `kubernetes-models` (the OpenAPI schemas
 * of the Kubernetes API compiled to validators, one model class per kind):
 *
 * 1. `new Kind(obj).validate()`: types, required fields, enums, formats (int32, quantities ...).
 * 2. Unknown fields: those schemas, like the API server's OpenAPI v2, do not forbid extra
 *    properties, so a typo (`runAsNonRot`) would pass step 1 while `kubectl apply` (strict field
 *    validation since 1.27) rejects it. `unknownFields` walks the object along the TypeScript
 *    declaration of the same model (`IDeployment` ...), which the package generates from the same
 *    schemas, and reports every key that is not a declared field.
 */

interface Model {
  validate(): void;
}
type ModelClass = new (data: any) => Model;

const MODELS: Record<string, ModelClass> = {
  'storage.k8s.io/v1/CSIDriver': CSIDriver,
  'storage.k8s.io/v1/StorageClass': StorageClass,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ServiceAccount': ServiceAccount,
  'v1/Secret': Secret,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Pod': Pod,
};

export const typeKey = (o: { apiVersion: string; kind: string }): string => `${o.apiVersion}/${o.kind}`;

export function hasModel(o: K8sObject): boolean {
  return typeKey(o) in MODELS;
}

/** Throws the model's validation error (with the failing path) when the object is invalid. */
export function validateWithModel(o: K8sObject): void {
  const M = MODELS[typeKey(o)];
  if (!M) throw new Error(`no kubernetes-models class for ${typeKey(o)}`);
  new M(o).validate();
}

// ---- unknown-field check along the models' TypeScript declarations ----

const VIRTUAL = join(REPO_ROOT, 'test', 'deploy', '__k8s_types__.ts');

function modelModule(key: string): { module: string; iface: string } {
  const parts = key.split('/');
  const kind = parts.pop() ?? '';
  return { module: `kubernetes-models/${parts.join('/')}/${kind}`, iface: `I${kind}` };
}

let cached: { checker: ts.TypeChecker; kinds: ts.Type } | undefined;

function typeChecker(): { checker: ts.TypeChecker; kinds: ts.Type } {
  if (cached) return cached;
  const keys = Object.keys(MODELS);
  const lines = keys.map((k, i) => {
    const { module, iface } = modelModule(k);
    return `import type { ${iface} as T${i} } from '${module}';`;
  });
  lines.push(`export interface Kinds {`);
  keys.forEach((k, i) => lines.push(`  '${k}': T${i};`));
  // ObjectMeta, for objects whose kind has no model (CRDs): checked field by field too.
  lines.push(`  'ObjectMeta': NonNullable<T${keys.indexOf('v1/Secret')}['metadata']>;`);
  lines.push('}');
  const text = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === VIRTUAL ? ts.createSourceFile(name, text, lang) : getSourceFile(name, lang, ...rest);
  host.fileExists = (name) => name === VIRTUAL || fileExists(name);
  host.readFile = (name) => (name === VIRTUAL ? text : readFile(name));
  const program = ts.createProgram([VIRTUAL], options, host);
  const problems = ts.getPreEmitDiagnostics(program).filter((d) => d.file?.fileName === VIRTUAL);
  if (problems.length > 0) {
    throw new Error(`model types not found: ${problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  }
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(VIRTUAL);
  const sym = sf && checker.getSymbolAtLocation(sf);
  const kindsSym = sym && checker.getExportsOfModule(sym).find((s) => s.name === 'Kinds');
  if (!kindsSym) throw new Error('cannot build the model types');
  cached = { checker, kinds: checker.getDeclaredTypeOfSymbol(kindsSym) };
  return cached;
}

function typeFor(key: string): ts.Type {
  const { checker, kinds } = typeChecker();
  const prop = checker.getPropertyOfType(kinds, key);
  if (!prop) throw new Error(`no model type for ${key}`);
  return checker.getTypeOfSymbol(prop);
}

/** Paths of keys the schema does not declare, e.g. `spec.template.spec.containers[0].securityContext.runAsNonRot`. */
export function unknownFields(o: K8sObject): string[] {
  return unknownFieldsAs(o, typeKey(o));
}

/** The same check for a value against a named type (`ObjectMeta` for CRD objects' metadata). */
export function unknownFieldsAs(value: unknown, key: string, path = ''): string[] {
  const { checker } = typeChecker();
  const out: string[] = [];
  walk(checker, value, typeFor(key), path, out);
  return out;
}

function walk(checker: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): void {
  if (value === null || value === undefined || typeof value !== 'object') return; // primitives: validate() checks them
  const t = checker.getNonNullableType(type);
  if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  const members = t.isUnion() ? t.types : [t];
  if (Array.isArray(value)) {
    const arrays = members.filter((m) => checker.isArrayType(m));
    const elem = arrays[0] && checker.getTypeArguments(arrays[0] as ts.TypeReference)[0];
    if (!elem) {
      out.push(`${path || '.'}: a list where the schema has no list`);
      return;
    }
    value.forEach((v, i) => walk(checker, v, elem, `${path}[${i}]`, out));
    return;
  }
  const objects = members.filter((m) => !checker.isArrayType(m) && (m.flags & ts.TypeFlags.Object) !== 0);
  if (objects.length === 0) {
    out.push(`${path || '.'}: an object where the schema has ${checker.typeToString(t)}`);
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const here = path ? `${path}.${k}` : k;
    let next: ts.Type | undefined;
    for (const m of objects) {
      const prop = checker.getPropertyOfType(m, k);
      if (prop) {
        next = checker.getTypeOfSymbol(prop);
        break;
      }
      const index = checker.getIndexInfoOfType(m, ts.IndexKind.String);
      if (index) {
        next = index.type;
        break;
      }
    }
    if (!next) out.push(`${here}: unknown field`);
    else walk(checker, v, next, here, out);
  }
}
