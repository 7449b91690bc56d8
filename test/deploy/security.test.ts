import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argMap, container, containers, examples, find, podSpec, REPO_ROOT, topLevel, volume, type Container, type K8sObject } from './manifests.js';

const docs = topLevel();
const controller = find(docs, 'Deployment', 'cinder-metal-csi-controller');
const node = find(docs, 'DaemonSet', 'cinder-metal-csi-node');
const workloads = docs.filter((d) => ['Deployment', 'DaemonSet', 'StatefulSet', 'Pod', 'Job'].includes(d.obj.kind)).map((d) => d.obj);
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const label = (w: K8sObject, c: Container): string => `${w.kind}/${w.metadata.name}/${c.name}`;

describe('privilege', () => {
  it('only the node plugin container is privileged', () => {
    const privileged = workloads.flatMap((w) => containers(w).filter((c) => c.securityContext?.privileged === true).map((c) => label(w, c)));
    expect(privileged).toEqual(['DaemonSet/cinder-metal-csi-node/csi-plugin']);
  });

  it('no container adds capabilities; every unprivileged one drops ALL and cannot escalate', () => {
    for (const w of workloads) {
      for (const c of containers(w)) {
        const sc = c.securityContext ?? {};
        expect(sc.capabilities?.add ?? [], label(w, c)).toEqual([]);
        if (sc.privileged) continue;
        expect(sc.allowPrivilegeEscalation, label(w, c)).toBe(false);
        expect(sc.capabilities?.drop, label(w, c)).toContain('ALL');
      }
    }
  });

  it('no pod uses the host PID or IPC namespace; only the node plugin uses the host network', () => {
    for (const w of workloads) {
      const spec = podSpec(w);
      expect(spec.hostPID ?? false, w.metadata.name).toBe(false);
      expect(spec.hostIPC ?? false, w.metadata.name).toBe(false);
      expect(spec.hostNetwork ?? false, w.metadata.name).toBe(w === node);
    }
  });
});

describe('the controller is unprivileged', () => {
  const spec = controller.spec.template.spec;
  const effective = (c: Container, key: string): unknown => c.securityContext?.[key] ?? spec.securityContext?.[key];

  it.each(containers(controller).map((c) => [c.name, c] as const))('%s: non-root, read-only root, no escalation, seccomp', (_n, c) => {
    expect(effective(c, 'runAsNonRoot')).toBe(true);
    const uid = effective(c, 'runAsUser');
    expect(typeof uid === 'number' && uid > 0).toBe(true);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext?.allowPrivilegeEscalation).toBe(false);
    expect(c.securityContext?.capabilities?.drop).toContain('ALL');
    expect((c.securityContext?.seccompProfile ?? spec.securityContext?.seccompProfile)?.type).toBe('RuntimeDefault');
  });

  it('uses no host path and no host namespace', () => {
    expect((spec.volumes ?? []).filter((v: any) => v.hostPath)).toEqual([]);
    expect(spec.hostNetwork ?? false).toBe(false);
  });

  it('the cloud credentials are mounted read-only, into the plugin container only', () => {
    const secretVolumes = (spec.volumes ?? []).filter((v: any) => v.secret).map((v: any) => v.name);
    expect(secretVolumes).toEqual(['cloud-config']);
    expect(volume(controller, 'cloud-config').secret.secretName).toBe('cinder-metal-csi-cloud-config');
    // group-readable at most (fsGroup), never world-readable
    expect(volume(controller, 'cloud-config').secret.defaultMode & 0o007).toBe(0);
    for (const c of containers(controller)) {
      const m = (c.volumeMounts ?? []).filter((x) => x.name === 'cloud-config');
      if (c.name === 'csi-plugin') {
        expect(m).toHaveLength(1);
        expect(m[0]?.readOnly).toBe(true);
      } else {
        expect(m, c.name).toEqual([]);
      }
    }
  });
});

describe('the node plugin holds no cloud credentials', () => {
  const spec = node.spec.template.spec;

  it('no Secret volume; the one projected volume is the plugin\'s API token and the cluster CA', () => {
    for (const v of spec.volumes ?? []) {
      expect(v.secret, v.name).toBeUndefined();
      expect(v.csi, v.name).toBeUndefined();
      if (v.projected) {
        expect(v.name).toBe('kube-api-access');
        const kinds = v.projected.sources.map((src: Record<string, unknown>) => Object.keys(src)[0]).sort();
        expect(kinds).toEqual(['configMap', 'serviceAccountToken']);
      }
    }
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  it('no Secret in env or envFrom, and no --cloud-config', () => {
    for (const c of containers(node)) {
      for (const e of c.env ?? []) expect(e.valueFrom?.secretKeyRef, `${c.name} ${e.name}`).toBeUndefined();
      for (const e of c.envFrom ?? []) expect(e.secretRef, c.name).toBeUndefined();
      expect(argMap(c.args).has('cloud-config'), c.name).toBe(false);
      expect((c.env ?? []).map((e: any) => e.name), c.name).not.toContain('CLOUD_CONFIG');
    }
  });

  it('privileged without hostPID, on every node, as system-node-critical', () => {
    expect(spec.hostPID ?? false).toBe(false);
    expect(spec.priorityClassName).toBe('system-node-critical');
    expect(spec.tolerations).toContainEqual({ operator: 'Exists' });
    expect(container(node, 'csi-plugin').securityContext.privileged).toBe(true);
  });

  it('host mounts: read-only kernel modules; state, iSCSI and udev pieces from the host', () => {
    const plugin = container(node, 'csi-plugin');
    const mountOf = (path: string): any => (plugin.volumeMounts ?? []).find((m) => m.mountPath === path);
    const hostPathOf = (path: string): string | undefined => volume(node, mountOf(path)?.name ?? '?').hostPath?.path;
    expect(mountOf('/lib/modules')?.readOnly).toBe(true);
    expect(mountOf('/run/udev')?.readOnly).toBe(true);
    for (const p of ['/dev', '/sys', '/lib/modules', '/etc/iscsi', '/var/lib/iscsi', '/run/lock/iscsi', '/run/udev']) {
      expect(hostPathOf(p), p).toBe(p);
    }
    for (const c of containers(node)) {
      if (c.name === 'csi-plugin') continue;
      // sidecars see the socket (and the registrar its registration dir), nothing else of the host
      for (const m of c.volumeMounts ?? []) expect(['socket-dir', 'registration-dir'], `${c.name} ${m.name}`).toContain(m.name);
    }
  });
});

describe('resources and images', () => {
  it.each(workloads.flatMap((w) => containers(w).map((c) => [label(w, c), c] as const)))('%s sets requests and a memory limit', (_l, c) => {
    expect(c.resources?.requests?.cpu).toBeDefined();
    expect(c.resources?.requests?.memory).toBeDefined();
    expect(c.resources?.limits?.memory).toBeDefined();
  });

  const everyImage = [...docs, ...examples()].flatMap((d) =>
    ['Deployment', 'DaemonSet', 'Pod', 'StatefulSet', 'Job'].includes(d.obj.kind) ? containers(d.obj).map((c) => [`${d.file} ${c.name}`, c.image] as const) : [],
  );

  it.each(everyImage)('%s: %s is pinned to a version tag', (_l, image) => {
    const m = /^(?<repo>[a-z0-9.-]+(?::\d+)?(?:\/[a-z0-9._-]+)*)(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
    expect(m, image).not.toBeNull();
    const tag = m?.groups?.tag;
    expect(tag, `${image} has a tag`).toBeDefined();
    expect(tag).not.toBe('latest');
    expect(tag).toMatch(/\d/);
  });

  it('sidecar images are the kubernetes-csi releases asked for, at a vX.Y.Z tag', () => {
    const majors: Record<string, number> = {
      'csi-provisioner': 5,
      'csi-attacher': 4,
      'csi-resizer': 1,
      'csi-snapshotter': 8,
      'csi-node-driver-registrar': 2,
      livenessprobe: 2,
    };
    const seen = new Set<string>();
    for (const w of workloads) {
      for (const c of containers(w)) {
        const m = /^registry\.k8s\.io\/sig-storage\/([a-z-]+):v(\d+)\.\d+\.\d+$/.exec(c.image);
        if (!m) continue;
        expect(majors[m[1] ?? ''], c.image).toBe(Number(m[2]));
        seen.add(m[1] ?? '');
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(majors).sort());
  });

  it('the plugin image and version labels carry the package version', () => {
    for (const w of [controller, node]) {
      expect(container(w, 'csi-plugin').image).toBe(`ghcr.io/kungze/cinder-metal-csi:v${VERSION}`);
      expect(w.metadata.labels['app.kubernetes.io/version']).toBe(VERSION);
      expect(w.spec.template.metadata.labels['app.kubernetes.io/version']).toBe(VERSION);
    }
    expect(find(docs, 'CSIDriver', 'cinder.metal.csi.kungze.io').metadata.labels['app.kubernetes.io/version']).toBe(VERSION);
  });
});
