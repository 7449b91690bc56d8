import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** Shared loading of deploy/**.yaml for the deploy tests. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const EXAMPLES_DIR = join(DEPLOY_DIR, 'examples');
export const NAMESPACE = 'kube-system';

// The manifests are plain data: loose typing on purpose, narrowed by the schema tests.
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

export interface LoadedDoc {
  /** Path relative to the repository, e.g. deploy/20-controller.yaml. */
  file: string;
  index: number;
  obj: K8sObject;
}

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/**
 * Every document of a file. Parsed as YAML 1.2 (the `yaml` default) and as YAML 1.1 (what
 * kubectl's parser follows): both readings must agree, so no value is an octal or a boolean in
 * one and a string or decimal in the other (`0440`, `on`, `yes`).
 */
export function loadFile(path: string): LoadedDoc[] {
  const text = readFileSync(path, 'utf8');
  const file = relative(REPO_ROOT, path);
  const v12 = parseAllDocuments(text, { version: '1.2', uniqueKeys: true, prettyErrors: true });
  const v11 = parseAllDocuments(text, { version: '1.1', uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(v12) || !Array.isArray(v11)) throw new Error(`${file}: not a YAML stream`);
  const out: LoadedDoc[] = [];
  v12.forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${file} document ${index}: ${problems.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // an empty document (e.g. after a trailing ---)
    const other: unknown = v11[index]?.toJS();
    if (JSON.stringify(value) !== JSON.stringify(other)) {
      throw new Error(`${file} document ${index}: YAML 1.1 and 1.2 read it differently (quote octal-looking or yes/no/on/off values)`);
    }
    out.push({ file, index, obj: value as K8sObject });
  });
  return out;
}

export function loadDir(dir: string): LoadedDoc[] {
  return yamlFiles(dir).flatMap((name) => loadFile(join(dir, name)));
}

export const topLevel = (): LoadedDoc[] => loadDir(DEPLOY_DIR);
export const examples = (): LoadedDoc[] => loadDir(EXAMPLES_DIR);

export function find(docs: LoadedDoc[], kind: string, name: string): K8sObject {
  const hit = docs.find((d) => d.obj.kind === kind && d.obj.metadata?.name === name);
  if (!hit) throw new Error(`no ${kind} ${name} in ${[...new Set(docs.map((d) => d.file))].join(', ')}`);
  return hit.obj;
}

export function ofKind(docs: LoadedDoc[], kind: string): K8sObject[] {
  return docs.filter((d) => d.obj.kind === kind).map((d) => d.obj);
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: any[];
  envFrom?: any[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; mountPropagation?: string }[];
  securityContext?: any;
  resources?: any;
  livenessProbe?: any;
  [k: string]: any;
}

export function podSpec(workload: K8sObject): any {
  return workload.kind === 'Pod' ? workload.spec : workload.spec?.template?.spec;
}

export function containers(workload: K8sObject): Container[] {
  const spec = podSpec(workload);
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])] as Container[];
}

export function container(workload: K8sObject, name: string): Container {
  const c = containers(workload).find((x) => x.name === name);
  if (!c) throw new Error(`${workload.kind} ${workload.metadata.name} has no container ${name}`);
  return c;
}

export function volume(workload: K8sObject, name: string): any {
  const v = (podSpec(workload)?.volumes ?? []).find((x: any) => x.name === name);
  if (!v) throw new Error(`${workload.kind} ${workload.metadata.name} has no volume ${name}`);
  return v;
}

/** `--flag=value` / `--flag value` / `--flag` → Map(flag → value, '' for a bare flag). */
export function argMap(args: readonly string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (!a.startsWith('-')) continue;
    const name = a.replace(/^-+/, '');
    const eq = name.indexOf('=');
    if (eq >= 0) out.set(name.slice(0, eq), name.slice(eq + 1));
    else if (i + 1 < args.length && !(args[i + 1] ?? '').startsWith('-')) out.set(name, args[++i] ?? '');
    else out.set(name, '');
  }
  return out;
}

/** Kubernetes' $(VAR) expansion in args, from the container's env (value or fieldRef). */
export function expandArgs(c: Container, fieldValues: Record<string, string>): string[] {
  const env = new Map<string, string>();
  for (const e of c.env ?? []) {
    if (typeof e.value === 'string') env.set(e.name, e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath) env.set(e.name, fieldValues[e.valueFrom.fieldRef.fieldPath] ?? '');
  }
  return (c.args ?? []).map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => {
      const value = env.get(v);
      if (value === undefined) throw new Error(`container ${c.name}: ${m} refers to an env var it does not define`);
      return value;
    }),
  );
}

/** A Go duration of the form the sidecars take (e.g. 180s, 3m, 1m30s) in seconds. */
export function durationSeconds(v: string): number {
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (const m of v.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : m[2] === 's' ? n : n / 1000;
    consumed += m[0].length;
  }
  if (consumed !== v.length || v.length === 0) throw new Error(`not a duration: ${v}`);
  return total;
}
