import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasModel, typeKey, unknownFields, unknownFieldsAs, validateWithModel } from './k8s-schema.js';
import { DEPLOY_DIR, EXAMPLES_DIR, examples, topLevel, yamlFiles, type K8sObject, type LoadedDoc } from './manifests.js';

/**
 * Every manifest under deploy/ parses (as YAML 1.1 and 1.2 alike) and validates against the
 * Kubernetes API schemas of `kubernetes-models`, with no field the schema does not declare.
 *
 * The VolumeSnapshot kinds are CRDs (kubernetes-csi/external-snapshotter); no package of the
 * kubernetes-models family ships their schemas and the CRDs are not vendored here (they are a
 * cluster add-on), so those objects are checked structurally below against the v1 API of
 * snapshot.storage.k8s.io (and the group snapshot kinds against groupsnapshot.storage.k8s.io/
 * v1beta1), and their metadata against the real ObjectMeta schema.
 */
const all: LoadedDoc[] = [...topLevel(), ...examples()];

const SNAPSHOT_API = 'snapshot.storage.k8s.io/v1';
/** VolumeGroupSnapshots: beta in external-snapshotter v8.2+ (client/apis/volumegroupsnapshot/v1beta1). */
const GROUP_SNAPSHOT_API = 'groupsnapshot.storage.k8s.io/v1beta1';

function checkGroupSnapshotKind(o: K8sObject): string[] {
  const problems: string[] = [...unknownFieldsAs(o.metadata, 'ObjectMeta', 'metadata')];
  const allowed = (obj: Record<string, unknown>, keys: string[], at: string): void => {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) problems.push(`${at}${k}: unknown field`);
  };
  if (o.kind === 'VolumeGroupSnapshotClass') {
    allowed(o, ['apiVersion', 'kind', 'metadata', 'driver', 'parameters', 'deletionPolicy'], '');
    if (typeof o.driver !== 'string' || o.driver === '') problems.push('driver: required string');
    if (!['Delete', 'Retain'].includes(o.deletionPolicy)) problems.push('deletionPolicy: must be Delete or Retain');
    if (o.parameters !== undefined && !Object.values(o.parameters as object).every((x) => typeof x === 'string')) problems.push('parameters: must map strings to strings');
  } else if (o.kind === 'VolumeGroupSnapshot') {
    allowed(o, ['apiVersion', 'kind', 'metadata', 'spec'], '');
    const spec = o.spec ?? {};
    allowed(spec, ['source', 'volumeGroupSnapshotClassName'], 'spec.');
    const source = spec.source ?? {};
    const keys = Object.keys(source);
    if (keys.length !== 1 || !['selector', 'volumeGroupSnapshotContentName'].includes(keys[0] ?? '')) {
      problems.push('spec.source: exactly one of selector, volumeGroupSnapshotContentName');
    } else if (keys[0] === 'selector') {
      const sel = source.selector ?? {};
      allowed(sel, ['matchLabels', 'matchExpressions'], 'spec.source.selector.');
      if (sel.matchLabels !== undefined && !Object.values(sel.matchLabels as object).every((x) => typeof x === 'string')) problems.push('spec.source.selector.matchLabels: must map strings to strings');
    }
    if (spec.volumeGroupSnapshotClassName !== undefined && typeof spec.volumeGroupSnapshotClassName !== 'string') problems.push('spec.volumeGroupSnapshotClassName: must be a string');
  } else {
    problems.push(`unexpected kind ${o.kind}`);
  }
  return problems;
}

/** snapshot.storage.k8s.io/v1 (external-snapshotter client/apis/volumesnapshot/v1/types.go). */
function checkSnapshotKind(o: K8sObject): string[] {
  const problems: string[] = [];
  const allowTop = (keys: string[]): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) problems.push(`${k}: unknown field`);
  };
  const isStringMap = (v: unknown): boolean =>
    v === undefined || (typeof v === 'object' && v !== null && Object.values(v).every((x) => typeof x === 'string'));
  problems.push(...unknownFieldsAs(o.metadata, 'ObjectMeta', 'metadata'));
  if (typeof o.metadata?.name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.metadata.name)) {
    problems.push('metadata.name: must be a DNS subdomain');
  }
  if (o.kind === 'VolumeSnapshotClass') {
    allowTop(['apiVersion', 'kind', 'metadata', 'driver', 'parameters', 'deletionPolicy']);
    if (typeof o.driver !== 'string' || o.driver === '') problems.push('driver: required string');
    if (!['Delete', 'Retain'].includes(o.deletionPolicy)) problems.push('deletionPolicy: must be Delete or Retain');
    if (!isStringMap(o.parameters)) problems.push('parameters: must map strings to strings');
  } else if (o.kind === 'VolumeSnapshot') {
    allowTop(['apiVersion', 'kind', 'metadata', 'spec']);
    const spec = o.spec ?? {};
    for (const k of Object.keys(spec)) if (!['source', 'volumeSnapshotClassName'].includes(k)) problems.push(`spec.${k}: unknown field`);
    const source = spec.source ?? {};
    const keys = Object.keys(source);
    if (keys.length !== 1 || !['persistentVolumeClaimName', 'volumeSnapshotContentName'].includes(keys[0] ?? '')) {
      problems.push('spec.source: exactly one of persistentVolumeClaimName, volumeSnapshotContentName');
    } else if (typeof source[keys[0] ?? ''] !== 'string') {
      problems.push(`spec.source.${keys[0]}: must be a string`);
    }
    if (spec.volumeSnapshotClassName !== undefined && typeof spec.volumeSnapshotClassName !== 'string') {
      problems.push('spec.volumeSnapshotClassName: must be a string');
    }
  } else {
    problems.push(`unexpected kind ${o.kind}`);
  }
  return problems;
}

describe('deploy manifests parse and validate against the Kubernetes schemas', () => {
  it('finds the manifests', () => {
    expect(yamlFiles(DEPLOY_DIR).length).toBeGreaterThanOrEqual(5);
    expect(yamlFiles(EXAMPLES_DIR).length).toBeGreaterThanOrEqual(6);
    expect(all.length).toBeGreaterThan(20);
  });

  it.each(all.map((d) => [`${d.file} #${d.index} ${d.obj.kind}/${d.obj.metadata?.name}`, d] as const))('%s', (_label, d) => {
    const o = d.obj;
    expect(typeof o.apiVersion, 'apiVersion').toBe('string');
    expect(typeof o.kind, 'kind').toBe('string');
    expect(typeof o.metadata?.name, 'metadata.name').toBe('string');
    if (o.apiVersion === SNAPSHOT_API) {
      expect(checkSnapshotKind(o)).toEqual([]);
      return;
    }
    if (o.apiVersion === GROUP_SNAPSHOT_API) {
      expect(checkGroupSnapshotKind(o)).toEqual([]);
      return;
    }
    expect(hasModel(o), `a schema for ${typeKey(o)}`).toBe(true);
    const problems: string[] = [];
    try {
      validateWithModel(o);
    } catch (err) {
      problems.push(...(err as Error).message.split(', '));
    }
    problems.push(...unknownFields(o));
    expect(problems).toEqual([]);
  });
});

describe('the validators catch what they are meant to catch', () => {
  const deployment = (): K8sObject => structuredClone(all.find((d) => d.obj.kind === 'Deployment' && d.file.startsWith('deploy/2'))!.obj);

  it('a wrong type', () => {
    const o = deployment();
    o.spec.replicas = 'two';
    expect(() => validateWithModel(o)).toThrow(/replicas/);
  });

  it('a missing required field', () => {
    const o = deployment();
    delete o.spec.template.spec.containers[0].name;
    expect(() => validateWithModel(o)).toThrow(/name/);
  });

  it('a misspelt field, at any depth', () => {
    const o = deployment();
    o.spec.template.spec.containers[0].securityContext.runAsNonRot = true;
    o.spec.template.spec.volumes[0].emptyDir.medum = 'Memory';
    o.spec.templates = {};
    expect(unknownFields(o)).toEqual([
      'spec.template.spec.containers[0].securityContext.runAsNonRot: unknown field',
      'spec.template.spec.volumes[0].emptyDir.medum: unknown field',
      'spec.templates: unknown field',
    ]);
  });

  it('map-typed fields accept any key (labels, StorageClass parameters)', () => {
    const o = deployment();
    o.metadata.labels = { 'anything.example.com/key': 'v' };
    expect(unknownFields(o)).toEqual([]);
  });

  it('a snapshot object with a bad source', () => {
    const snap = structuredClone(all.find((d) => d.obj.kind === 'VolumeSnapshot')!.obj);
    snap.spec.source = { persistentVolumeClaimName: 'a', volumeSnapshotContentName: 'b' };
    snap.metadata.lables = {};
    expect(checkSnapshotKind(snap)).toEqual([
      'metadata.lables: unknown field',
      'spec.source: exactly one of persistentVolumeClaimName, volumeSnapshotContentName',
    ]);
  });
});

describe('layout', () => {
  const top = topLevel();

  it('top-level files are numbered so `kubectl apply -f deploy/` creates things in order', () => {
    for (const f of yamlFiles(DEPLOY_DIR)) expect(f).toMatch(/^\d\d-[a-z0-9-]+\.yaml$/);
    const firstFileOf = (kind: string): string => top.filter((d) => d.obj.kind === kind).map((d) => d.file).sort()[0] ?? '~';
    const lastFileOf = (kind: string): string => top.filter((d) => d.obj.kind === kind).map((d) => d.file).sort().pop() ?? '';
    expect(firstFileOf('CSIDriver') < firstFileOf('Deployment')).toBe(true);
    expect(lastFileOf('ServiceAccount') < firstFileOf('Deployment')).toBe(true);
    expect(lastFileOf('ServiceAccount') < firstFileOf('DaemonSet')).toBe(true);
  });

  it('everything namespaced is in kube-system, where the docs create the cloud-config Secret', () => {
    const clusterScoped = new Set(['CSIDriver', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'VolumeSnapshotClass']);
    for (const { obj, file } of top) {
      if (clusterScoped.has(obj.kind)) expect(obj.metadata.namespace, `${file} ${obj.kind}`).toBeUndefined();
      else expect(obj.metadata.namespace, `${file} ${obj.kind}/${obj.metadata.name}`).toBe('kube-system');
    }
  });

  it('examples and user-made objects are not applied by `kubectl apply -f deploy/`', () => {
    expect(existsSync(EXAMPLES_DIR)).toBe(true);
    const userKinds = ['PersistentVolumeClaim', 'Pod', 'VolumeSnapshot', 'Secret'];
    for (const { obj, file } of top) expect(userKinds, `${file}`).not.toContain(obj.kind);
    const topNames = new Set(readdirSync(DEPLOY_DIR));
    for (const f of yamlFiles(EXAMPLES_DIR)) expect(topNames.has(f), f).toBe(false);
    const exampleKinds = new Set(examples().map((d) => d.obj.kind));
    for (const k of ['PersistentVolumeClaim', 'Pod', 'VolumeSnapshot']) expect(exampleKinds.has(k), k).toBe(true);
  });

  it('no object is defined twice (expand.yaml re-applies a PVC of pvc-pod.yaml on purpose)', () => {
    const ids = all
      .filter((d) => !d.file.endsWith('/expand.yaml'))
      .map(({ obj }) => `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});
