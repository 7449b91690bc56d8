import { describe, expect, it } from 'vitest';
import { container, find, NAMESPACE, ofKind, topLevel, type K8sObject } from './manifests.js';

/**
 * What each controller sidecar needs from the API server, as its upstream repository documents
 * it in deploy/kubernetes/rbac.yaml (external-provisioner, external-attacher, external-resizer)
 * and deploy/kubernetes/csi-snapshotter/rbac-csi-snapshotter.yaml (external-snapshotter), for the
 * major versions deployed here and the features this deployment turns on. Rules upstream marks
 * optional are left out on purpose, with the reason:
 * - secrets (all four): only for provisioner/publish/expand/snapshotter secrets; none is used.
 * - provisioner csistoragecapacities, pods, replicasets: only with --enable-capacity (off).
 * - provisioner volumeattributesclasses, referencegrants: ModifyVolume / cross-namespace data
 *   sources, not supported by the plugin.
 * - resizer pods: only with --handle-volume-inuse-error=true (set to false: ONLINE expansion).
 * - snapshotter groupsnapshot.storage.k8s.io: only with the CSIVolumeGroupSnapshot feature gate
 *   (the plugin has no GroupController service).
 * A change of major version must come with a review of this table (a test below pins the majors).
 */
type Scope = 'cluster' | 'namespace';
interface Need {
  sidecar: Sidecar;
  group: string;
  resource: string;
  verbs: string[];
  scope: Scope;
}
type Sidecar = 'provisioner' | 'attacher' | 'resizer' | 'snapshotter';

const LEASES = (sidecar: Sidecar): Need => ({
  sidecar,
  group: 'coordination.k8s.io',
  resource: 'leases',
  verbs: ['get', 'watch', 'list', 'delete', 'update', 'create'],
  scope: 'namespace',
});

const SIDECAR_MAJOR: Record<Sidecar, number> = { provisioner: 5, attacher: 4, resizer: 1, snapshotter: 8 };

const NEEDS: Need[] = [
  // external-provisioner v5 (ClusterRole external-provisioner-runner; Role external-provisioner-cfg).
  // PV "patch" since v5.0 (finalizers, kubernetes-csi/external-provisioner#1155).
  { sidecar: 'provisioner', group: '', resource: 'persistentvolumes', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], scope: 'cluster' },
  { sidecar: 'provisioner', group: '', resource: 'persistentvolumeclaims', verbs: ['get', 'list', 'watch', 'update'], scope: 'cluster' },
  { sidecar: 'provisioner', group: 'storage.k8s.io', resource: 'storageclasses', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  { sidecar: 'provisioner', group: '', resource: 'events', verbs: ['list', 'watch', 'create', 'update', 'patch'], scope: 'cluster' },
  { sidecar: 'provisioner', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshots', verbs: ['get', 'list'], scope: 'cluster' },
  { sidecar: 'provisioner', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents', verbs: ['get', 'list'], scope: 'cluster' },
  { sidecar: 'provisioner', group: 'storage.k8s.io', resource: 'csinodes', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  { sidecar: 'provisioner', group: '', resource: 'nodes', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  // "only needed when the CSI driver has the PUBLISH_UNPUBLISH_VOLUME controller capability": it has.
  { sidecar: 'provisioner', group: 'storage.k8s.io', resource: 'volumeattachments', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  // The PVC's VolumeAttributesClass, passed to CreateVolume as mutable_parameters (MODIFY_VOLUME).
  { sidecar: 'provisioner', group: 'storage.k8s.io', resource: 'volumeattributesclasses', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  LEASES('provisioner'),
  // external-attacher v4 (ClusterRole external-attacher-runner; Role external-attacher-cfg).
  { sidecar: 'attacher', group: '', resource: 'persistentvolumes', verbs: ['get', 'list', 'watch', 'patch'], scope: 'cluster' },
  { sidecar: 'attacher', group: 'storage.k8s.io', resource: 'csinodes', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  { sidecar: 'attacher', group: 'storage.k8s.io', resource: 'volumeattachments', verbs: ['get', 'list', 'watch', 'patch'], scope: 'cluster' },
  { sidecar: 'attacher', group: 'storage.k8s.io', resource: 'volumeattachments/status', verbs: ['patch'], scope: 'cluster' },
  LEASES('attacher'),
  // external-resizer v1 (ClusterRole external-resizer-runner; Role external-resizer-cfg).
  { sidecar: 'resizer', group: '', resource: 'persistentvolumes', verbs: ['get', 'list', 'watch', 'patch'], scope: 'cluster' },
  { sidecar: 'resizer', group: '', resource: 'persistentvolumeclaims', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  { sidecar: 'resizer', group: '', resource: 'persistentvolumeclaims/status', verbs: ['patch'], scope: 'cluster' },
  { sidecar: 'resizer', group: '', resource: 'events', verbs: ['list', 'watch', 'create', 'update', 'patch'], scope: 'cluster' },
  // Read when the VolumeAttributesClass feature is on (GA in Kubernetes 1.34).
  { sidecar: 'resizer', group: 'storage.k8s.io', resource: 'volumeattributesclasses', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  LEASES('resizer'),
  // csi-snapshotter v8 (ClusterRole external-snapshotter-runner; Role external-snapshotter-leaderelection).
  { sidecar: 'snapshotter', group: '', resource: 'events', verbs: ['list', 'watch', 'create', 'update', 'patch'], scope: 'cluster' },
  { sidecar: 'snapshotter', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotclasses', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  { sidecar: 'snapshotter', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents', verbs: ['create', 'get', 'list', 'watch', 'update', 'patch'], scope: 'cluster' },
  { sidecar: 'snapshotter', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshotcontents/status', verbs: ['update', 'patch'], scope: 'cluster' },
  // VolumeGroupSnapshots: the sidecar's CSIVolumeGroupSnapshot gate is on (20-controller.yaml).
  { sidecar: 'snapshotter', group: 'groupsnapshot.storage.k8s.io', resource: 'volumegroupsnapshotclasses', verbs: ['get', 'list', 'watch'], scope: 'cluster' },
  { sidecar: 'snapshotter', group: 'groupsnapshot.storage.k8s.io', resource: 'volumegroupsnapshotcontents', verbs: ['get', 'list', 'watch', 'update', 'patch'], scope: 'cluster' },
  { sidecar: 'snapshotter', group: 'groupsnapshot.storage.k8s.io', resource: 'volumegroupsnapshotcontents/status', verbs: ['update', 'patch'], scope: 'cluster' },
  LEASES('snapshotter'),
];

interface Grant {
  group: string;
  resource: string;
  verb: string;
  scope: Scope;
  role: string;
}

const docs = topLevel();
const CONTROLLER_SA = 'cinder-metal-csi-controller';
const NODE_SA = 'cinder-metal-csi-node';

function boundTo(sa: string, bindingKind: 'ClusterRoleBinding' | 'RoleBinding'): K8sObject[] {
  return ofKind(docs, bindingKind).filter((b) =>
    (b.subjects ?? []).some((s: any) => s.kind === 'ServiceAccount' && s.name === sa && s.namespace === NAMESPACE),
  );
}

/** Every (group, resource, verb) a ServiceAccount gets from the manifests. */
function grants(sa: string): Grant[] {
  const out: Grant[] = [];
  const expand = (role: K8sObject, scope: Scope): void => {
    for (const r of role.rules ?? []) {
      for (const group of r.apiGroups ?? []) for (const resource of r.resources ?? []) for (const verb of r.verbs ?? []) {
        out.push({ group, resource, verb, scope, role: role.metadata.name });
      }
    }
  };
  for (const b of boundTo(sa, 'ClusterRoleBinding')) expand(find(docs, b.roleRef.kind, b.roleRef.name), 'cluster');
  for (const b of boundTo(sa, 'RoleBinding')) {
    expect(b.metadata.namespace).toBe(NAMESPACE);
    const role = find(docs, b.roleRef.kind, b.roleRef.name);
    if (role.kind === 'Role') expect(role.metadata.namespace).toBe(NAMESPACE);
    expand(role, 'namespace');
  }
  return out;
}

const covers = (g: Grant, n: Need, verb: string): boolean =>
  g.group === n.group && g.resource === n.resource && g.verb === verb && (g.scope === 'cluster' || n.scope === 'namespace');

describe('RBAC of the controller sidecars', () => {
  const controller = find(docs, 'Deployment', 'cinder-metal-csi-controller');
  const granted = grants(CONTROLLER_SA);

  it('the controller pod runs as the controller ServiceAccount', () => {
    expect(controller.spec.template.spec.serviceAccountName).toBe(CONTROLLER_SA);
    find(docs, 'ServiceAccount', CONTROLLER_SA);
  });

  it('the pod runs exactly the four sidecars of the table, at the majors the table was written for', () => {
    for (const [sidecar, major] of Object.entries(SIDECAR_MAJOR)) {
      const c = container(controller, `csi-${sidecar}`);
      expect(c.image).toMatch(new RegExp(`^registry\\.k8s\\.io/sig-storage/csi-${sidecar}:v${major}\\.\\d+\\.\\d+$`));
    }
  });

  it.each(NEEDS.map((n) => [`${n.sidecar}: ${n.resource}.${n.group || 'core'} ${n.verbs.join(',')} (${n.scope})`, n] as const))(
    'grants %s',
    (_label, need) => {
      const missing = need.verbs.filter((v) => !granted.some((g) => covers(g, need, v)));
      expect(missing).toEqual([]);
    },
  );

  it('grants nothing beyond the table: no wildcard, no Secrets, no extra verb', () => {
    const extra = granted.filter((g) => g.role !== 'cinder-metal-csi-controller-plugin' && !NEEDS.some((n) => covers(g, n, g.verb) && n.verbs.includes(g.verb)));
    expect(extra).toEqual([]);
    expect(granted.filter((g) => [g.group, g.resource, g.verb].includes('*'))).toEqual([]);
    expect(granted.filter((g) => g.resource === 'secrets')).toEqual([]);
  });

  it('one ClusterRole per sidecar, holding that sidecar\'s cluster-wide needs', () => {
    for (const sidecar of Object.keys(SIDECAR_MAJOR) as Sidecar[]) {
      const role = find(docs, 'ClusterRole', `cinder-metal-csi-${sidecar}`);
      const have = granted.filter((g) => g.role === role.metadata.name).map((g) => `${g.group}/${g.resource}:${g.verb}`).sort();
      const want = NEEDS.filter((n) => n.sidecar === sidecar && n.scope === 'cluster')
        .flatMap((n) => n.verbs.map((v) => `${n.group}/${n.resource}:${v}`))
        .sort();
      expect(have).toEqual(want);
    }
  });

  it('leader election: Leases only through a Role in kube-system, and every sidecar elects', () => {
    const leases = granted.filter((g) => g.resource === 'leases');
    expect(leases.length).toBeGreaterThan(0);
    for (const g of leases) expect(g.scope).toBe('namespace');
    expect(controller.spec.replicas).toBe(2);
    for (const sidecar of Object.keys(SIDECAR_MAJOR)) {
      expect(container(controller, `csi-${sidecar}`).args).toContain('--leader-election');
    }
  });

  it('every binding refers to a role and a ServiceAccount defined here', () => {
    for (const b of [...ofKind(docs, 'ClusterRoleBinding'), ...ofKind(docs, 'RoleBinding')]) {
      find(docs, b.roleRef.kind, b.roleRef.name);
      expect(b.roleRef.apiGroup).toBe('rbac.authorization.k8s.io');
      for (const s of b.subjects) {
        expect(s.kind).toBe('ServiceAccount');
        expect(find(docs, 'ServiceAccount', s.name).metadata.namespace).toBe(s.namespace);
      }
    }
  });
});

describe('RBAC of the node plugin', () => {
  const ds = find(docs, 'DaemonSet', 'cinder-metal-csi-node');
  const spec = ds.spec.template.spec;

  it('the node ServiceAccount may read and patch Nodes (its connector record), nothing else', () => {
    const have = grants(NODE_SA).map((g) => `${g.group}/${g.resource}:${g.verb}:${g.scope}`).sort();
    expect(have).toEqual(['/nodes:get:cluster', '/nodes:patch:cluster']);
    expect(spec.serviceAccountName).toBe(NODE_SA);
  });

  it('only the plugin container holds an API token: none automounted, one token volume mounted into csi-plugin alone', () => {
    expect(find(docs, 'ServiceAccount', NODE_SA).automountServiceAccountToken).toBe(false);
    expect(spec.automountServiceAccountToken).toBe(false);
    const tokenVolumes = (spec.volumes ?? []).filter((v: any) => (v.projected?.sources ?? []).some((src: any) => src.serviceAccountToken));
    expect(tokenVolumes.map((v: any) => v.name)).toEqual(['kube-api-access']);
    const mountedBy = (spec.containers as any[]).filter((c) => (c.volumeMounts ?? []).some((m: any) => m.name === 'kube-api-access')).map((c) => c.name);
    expect(mountedBy).toEqual(['csi-plugin']);
    const mount = (container(ds, 'csi-plugin').volumeMounts ?? []).find((m: any) => m.name === 'kube-api-access');
    // Where src/kube/client.ts reads the token and the CA, as automount would put them.
    expect(mount).toMatchObject({ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true });
  });
});

describe('RBAC of the controller plugin container', () => {
  it('reads Nodes (the connector records), through a role of its own', () => {
    const have = grants(CONTROLLER_SA)
      .filter((g) => g.role === 'cinder-metal-csi-controller-plugin')
      .map((g) => `${g.group}/${g.resource}:${g.verb}`);
    expect(have).toEqual(['/nodes:get']);
  });
});
