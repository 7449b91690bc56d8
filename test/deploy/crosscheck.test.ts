import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAGS, parseCli } from '../../src/cli/args.js';
import { CONTROLLER_CAPABILITIES, PLUGIN_CAPABILITIES_CONTROLLER } from '../../src/services/capabilities.js';
import { DRIVER_NAME } from '../../src/util/package-info.js';
import { FS_TYPES } from '../../src/host/filesystem.js';
import { parseGroupSnapshotParameters } from '../../src/services/controller/group-snapshots.js';
import { parseSnapshotParameters, parseVolumeParameters } from '../../src/services/controller/parameters.js';
import {
  argMap,
  container,
  containers,
  durationSeconds,
  examples,
  expandArgs,
  find,
  ofKind,
  REPO_ROOT,
  topLevel,
  volume,
  type Container,
  type K8sObject,
} from './manifests.js';

const docs = topLevel();
const ex = examples();
const controller = find(docs, 'Deployment', 'cinder-metal-csi-controller');
const node = find(docs, 'DaemonSet', 'cinder-metal-csi-node');
const csiDriver = find(docs, 'CSIDriver', DRIVER_NAME);
const PLUGIN = 'csi-plugin';
const KUBELET_DIR = '/var/lib/kubelet';

const socketPath = (endpoint: string): string => {
  expect(endpoint).toMatch(/^unix:\/\/\//);
  return endpoint.slice('unix://'.length);
};
const mountOf = (c: Container, name: string): { mountPath: string; readOnly?: boolean; mountPropagation?: string } => {
  const m = (c.volumeMounts ?? []).find((x) => x.name === name);
  if (!m) throw new Error(`${c.name} does not mount ${name}`);
  return m;
};
/** The volume mounted in `c` at the directory holding `path`. */
const volumeAt = (w: K8sObject, c: Container, path: string): string => {
  const m = (c.volumeMounts ?? []).find((x) => posix.dirname(path) === x.mountPath.replace(/\/$/, ''));
  if (!m) throw new Error(`${c.name} mounts nothing at ${posix.dirname(path)}`);
  return m.name;
};
const trimSlash = (p: string): string => p.replace(/\/+$/, '');

describe('driver name', () => {
  it('CSIDriver, StorageClasses and VolumeSnapshotClass name the driver the plugin reports', () => {
    expect(csiDriver.metadata.name).toBe(DRIVER_NAME);
    const classes = [...ofKind(docs, 'StorageClass'), ...ofKind(ex, 'StorageClass')];
    expect(classes.length).toBeGreaterThanOrEqual(2);
    for (const sc of classes) expect(sc.provisioner, sc.metadata.name).toBe(DRIVER_NAME);
    for (const vsc of ofKind(docs, 'VolumeSnapshotClass')) expect(vsc.driver).toBe(DRIVER_NAME);
  });

  it('CSIDriver spec', () => {
    expect(csiDriver.spec).toEqual({
      attachRequired: true,
      podInfoOnMount: false,
      fsGroupPolicy: 'File',
      volumeLifecycleModes: ['Persistent'],
    });
  });
});

describe('sockets and paths agree everywhere', () => {
  for (const w of [controller, node]) {
    it(`${w.kind}: every sidecar reaches the plugin's socket through the same volume`, () => {
      const plugin = container(w, PLUGIN);
      const sock = socketPath(argMap(plugin.args).get('endpoint') ?? '');
      const vol = volumeAt(w, plugin, sock);
      const sidecars = containers(w).filter((c) => c.name !== PLUGIN);
      expect(sidecars.length).toBeGreaterThan(0);
      for (const c of sidecars) {
        expect(argMap(c.args).get('csi-address'), c.name).toBe(sock);
        expect(mountOf(c, vol).mountPath, c.name).toBe(posix.dirname(sock));
      }
    });

    it(`${w.kind}: the plugin's liveness probe is the livenessprobe sidecar's port`, () => {
      const plugin = container(w, PLUGIN);
      const port = argMap(container(w, 'liveness-probe').args).get('health-port');
      const probePort = plugin.livenessProbe.httpGet.port;
      const resolved = typeof probePort === 'number' ? probePort : plugin.ports?.find((p) => p.name === probePort)?.containerPort;
      expect(String(resolved)).toBe(port);
      expect(plugin.livenessProbe.httpGet.path).toBe('/healthz');
    });

    it(`${w.kind}: the plugin's --http-endpoint port is declared and distinct from the probe's`, () => {
      const plugin = container(w, PLUGIN);
      const http = argMap(plugin.args).get('http-endpoint') ?? '';
      const port = Number(http.split(':').pop());
      expect(plugin.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(port);
      const ports = containers(w).flatMap((c) => (c.ports ?? []).map((p) => p.containerPort));
      expect(new Set(ports).size).toBe(ports.length);
    });
  }

  it('node: the socket directory is the kubelet plugin dir named after the driver', () => {
    const plugin = container(node, PLUGIN);
    const sock = socketPath(argMap(plugin.args).get('endpoint') ?? '');
    const vol = volume(node, volumeAt(node, plugin, sock));
    const hostDir = trimSlash(vol.hostPath.path);
    expect(hostDir).toBe(`${KUBELET_DIR}/plugins/${DRIVER_NAME}`);
    expect(vol.hostPath.type).toBe('DirectoryOrCreate');
    const registrar = container(node, 'node-driver-registrar');
    expect(argMap(registrar.args).get('kubelet-registration-path')).toBe(`${hostDir}/${posix.basename(sock)}`);
  });

  it('node: the registrar registers through the kubelet plugins_registry dir', () => {
    const registrar = container(node, 'node-driver-registrar');
    const reg = volume(node, 'registration-dir');
    expect(trimSlash(reg.hostPath.path)).toBe(`${KUBELET_DIR}/plugins_registry`);
    // node-driver-registrar writes its registration socket under /registration
    expect(mountOf(registrar, 'registration-dir').mountPath).toBe('/registration');
    for (const c of containers(node)) if (c.name !== registrar.name) expect((c.volumeMounts ?? []).map((m) => m.name)).not.toContain('registration-dir');
  });

  it('node: --kubelet-dir is the host kubelet dir, mounted at the same path with Bidirectional propagation', () => {
    const plugin = container(node, PLUGIN);
    const dir = argMap(plugin.args).get('kubelet-dir');
    expect(dir).toBe(KUBELET_DIR);
    const m = (plugin.volumeMounts ?? []).find((x) => x.mountPath === dir);
    expect(m?.mountPropagation).toBe('Bidirectional');
    expect(volume(node, m?.name ?? '').hostPath.path).toBe(dir);
    // only the privileged plugin may use Bidirectional propagation
    for (const c of containers(node)) if (c.name !== PLUGIN) for (const x of c.volumeMounts ?? []) expect(x.mountPropagation).toBeUndefined();
  });

  it('node: --state-dir (the node key) is a host dir at the same path, created when missing', () => {
    const plugin = container(node, PLUGIN);
    const dir = argMap(plugin.args).get('state-dir');
    const m = (plugin.volumeMounts ?? []).find((x) => x.mountPath === dir);
    expect(m).toBeDefined();
    expect(volume(node, m?.name ?? '').hostPath).toEqual({ path: dir, type: 'DirectoryOrCreate' });
  });

  it('controller: --cloud-config is the cloud.conf key of the Secret the user guide tells to create', () => {
    const plugin = container(controller, PLUGIN);
    const file = argMap(plugin.args).get('cloud-config') ?? '';
    const vol = volume(controller, volumeAt(controller, plugin, file));
    expect(vol.secret.secretName).toBe('cinder-metal-csi-cloud-config');
    const item = (vol.secret.items ?? [{ key: posix.basename(file), path: posix.basename(file) }]).find(
      (i: any) => i.path === posix.basename(file),
    );
    expect(item?.key).toBe('cloud.conf');
    const guide = readFileSync(join(REPO_ROOT, 'docs', 'user-guide.md'), 'utf8');
    expect(guide).toContain('kubectl -n kube-system create secret generic cinder-metal-csi-cloud-config --from-file=cloud.conf');
    expect(guide).toContain('kubectl apply -f deploy/');
  });
});

describe('plugin arguments are flags the CLI accepts', () => {
  const cases = [
    [controller, 'controller'],
    [node, 'node'],
  ] as const;

  it.each(cases.map(([w, mode]) => [w.kind, w, mode] as const))('%s', (_k, w, mode) => {
    const plugin = container(w, PLUGIN);
    for (const flag of argMap(plugin.args).keys()) expect(Object.keys(FLAGS), `--${flag}`).toContain(flag);
    for (const a of plugin.args ?? []) expect(a, 'one --flag=value per item').toMatch(/^--[a-z-]+=\S+$/);
    // The whole argv, after Kubernetes' $(VAR) expansion, must parse as the container would run it.
    const argv = expandArgs(plugin, { 'spec.nodeName': 'worker-1' });
    const parsed = parseCli(argv, {});
    expect(parsed.kind).toBe('run');
    if (parsed.kind !== 'run') return;
    expect(parsed.options.mode).toBe(mode);
    if (mode === 'node') {
      expect(parsed.options.nodeName).toBe('worker-1');
      expect(plugin.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    }
  });

  it('the node plugin runs host tools inside its own image (no host namespaces to enter without hostPID)', () => {
    expect(argMap(container(node, PLUGIN).args).get('host-exec')).toBe('direct');
  });
});

describe('sidecar arguments', () => {
  const args = (name: string): Map<string, string> => argMap(container(controller, name).args);

  it('csi-provisioner: topology, PVC metadata, ext4 default, a long timeout, leader election', () => {
    const a = args('csi-provisioner');
    expect(a.get('feature-gates')?.split(',')).toEqual(['Topology=true', 'VolumeAttributesClass=true']);
    expect(a.has('extra-create-metadata')).toBe(true);
    expect(a.get('default-fstype')).toBe('ext4');
    expect(FS_TYPES).toContain(a.get('default-fstype'));
    expect(durationSeconds(a.get('timeout') ?? '')).toBeGreaterThanOrEqual(180);
    expect(a.has('leader-election')).toBe(true);
  });

  it('csi-resizer: the VolumeAttributesClass gate, as the plugin advertises MODIFY_VOLUME', () => {
    expect(CONTROLLER_CAPABILITIES).toContain('MODIFY_VOLUME');
    expect(args('csi-resizer').get('feature-gates')).toBe('VolumeAttributesClass=true');
  });

  it('csi-snapshotter: the CSIVolumeGroupSnapshot gate, as the plugin serves the GroupController', () => {
    expect(PLUGIN_CAPABILITIES_CONTROLLER).toContain('GROUP_CONTROLLER_SERVICE');
    expect(args('csi-snapshotter').get('feature-gates')).toBe('CSIVolumeGroupSnapshot=true');
  });

  it.each(['csi-attacher', 'csi-resizer', 'csi-snapshotter'])('%s: leader election and a timeout of at least a minute', (name) => {
    const a = args(name);
    expect(a.has('leader-election')).toBe(true);
    expect(durationSeconds(a.get('timeout') ?? '0s')).toBeGreaterThanOrEqual(60);
  });
});

describe('StorageClass and VolumeSnapshotClass parameters are ones the controller accepts', () => {
  // The sidecars strip the csi.storage.k8s.io/ keys before CreateVolume; the rest reach the plugin.
  const pluginParams = (p: Record<string, string> = {}): Record<string, string> =>
    Object.fromEntries(Object.entries(p).filter(([k]) => !k.startsWith('csi.storage.k8s.io/')));

  it.each([...ofKind(docs, 'StorageClass'), ...ofKind(ex, 'StorageClass')].map((sc) => [sc.metadata.name, sc] as const))('%s', (_n, sc) => {
    expect(() => parseVolumeParameters(pluginParams(sc.parameters))).not.toThrow();
    expect(parseVolumeParameters(pluginParams(sc.parameters)).volumeType).toBeTruthy();
    expect(sc.allowVolumeExpansion).toBe(true);
    expect(sc.volumeBindingMode).toBe('WaitForFirstConsumer');
    const fs = sc.parameters?.['csi.storage.k8s.io/fstype'];
    if (fs !== undefined) expect(FS_TYPES).toContain(fs);
  });

  it('the example VolumeGroupSnapshotClass is accepted, and its VolumeGroupSnapshot selects the example PVC', () => {
    const [cls] = ofKind(ex, 'VolumeGroupSnapshotClass');
    expect(parseGroupSnapshotParameters(pluginParams(cls?.parameters)).groupType).toBeTruthy();
    const [vgs] = ofKind(ex, 'VolumeGroupSnapshot');
    expect(vgs?.spec.volumeGroupSnapshotClassName).toBe(cls?.metadata.name);
    const labels = vgs?.spec.source.selector.matchLabels as Record<string, string>;
    const selected = ofKind(ex, 'PersistentVolumeClaim').filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v));
    expect(selected.map((p) => p.metadata.name)).toEqual(['data']);
  });

  it('a snapshot class and a backup class, both accepted by the controller', () => {
    const kinds = ofKind(docs, 'VolumeSnapshotClass').map((c) => [c.metadata.name, parseSnapshotParameters(pluginParams(c.parameters)).kind]);
    expect(kinds).toEqual([
      ['cinder-metal-snapshot', 'snapshot'],
      ['cinder-metal-backup', 'backup'],
    ]);
  });

  it('an iSCSI class and an RBD class; the RBD one names the Ceph key Secret of the example', () => {
    const scs = ofKind(docs, 'StorageClass');
    expect(scs.map((s) => s.parameters.type).sort()).toEqual(['iscsi', 'rbd']);
    const rbd = scs.find((s) => s.parameters.type === 'rbd')!;
    const secret = find(ex, 'Secret', rbd.parameters['csi.storage.k8s.io/node-stage-secret-name']);
    expect(secret.metadata.namespace).toBe(rbd.parameters['csi.storage.k8s.io/node-stage-secret-namespace']);
    // the Ceph key goes to the node only (node-stage); no other secret parameter on any class
    for (const s of scs) {
      const secretKeys = Object.keys(s.parameters).filter((k) => /secret/.test(k));
      for (const k of secretKeys) expect(k).toMatch(/^csi\.storage\.k8s\.io\/node-stage-secret-(name|namespace)$/);
    }
  });

  it('VolumeSnapshotClass', () => {
    const [vsc] = ofKind(docs, 'VolumeSnapshotClass');
    expect(vsc?.apiVersion).toBe('snapshot.storage.k8s.io/v1');
    expect(vsc?.deletionPolicy).toBe('Delete');
    expect(() => parseSnapshotParameters(vsc?.parameters)).not.toThrow();
  });
});

describe('examples refer to things that exist', () => {
  const classes = new Set([...ofKind(docs, 'StorageClass'), ...ofKind(ex, 'StorageClass')].map((s) => s.metadata.name));
  const snapClasses = new Set(ofKind(docs, 'VolumeSnapshotClass').map((s) => s.metadata.name));
  const pvcs = ofKind(ex, 'PersistentVolumeClaim');
  const snapshots = ofKind(ex, 'VolumeSnapshot');

  it('storage classes and snapshot classes', () => {
    for (const p of pvcs) expect(classes.has(p.spec.storageClassName), p.metadata.name).toBe(true);
    for (const s of snapshots) expect(snapClasses.has(s.spec.volumeSnapshotClassName), s.metadata.name).toBe(true);
  });

  it('data sources and claims', () => {
    const pvcNames = new Set(pvcs.map((p) => p.metadata.name));
    for (const s of snapshots) expect(pvcNames.has(s.spec.source.persistentVolumeClaimName)).toBe(true);
    const sources = pvcs.filter((p) => p.spec.dataSource).map((p) => p.spec.dataSource);
    expect(sources.map((d) => d.kind).sort()).toEqual(['PersistentVolumeClaim', 'VolumeSnapshot', 'VolumeSnapshot']);
    for (const d of sources) {
      if (d.kind === 'VolumeSnapshot') expect(snapshots.map((s) => s.metadata.name)).toContain(d.name);
      else expect(pvcNames.has(d.name)).toBe(true);
    }
    for (const w of ex.map((d) => d.obj).filter((o) => ['Pod', 'Deployment'].includes(o.kind))) {
      const spec = w.kind === 'Pod' ? w.spec : w.spec.template.spec;
      for (const v of spec.volumes ?? []) if (v.persistentVolumeClaim) expect(pvcNames.has(v.persistentVolumeClaim.claimName)).toBe(true);
    }
  });

  it('raw block: a Block PVC used through volumeDevices', () => {
    const block = pvcs.filter((p) => p.spec.volumeMode === 'Block').map((p) => p.metadata.name);
    expect(block.length).toBeGreaterThan(0);
    const devices = ex
      .map((d) => d.obj)
      .filter((o) => ['Pod', 'Deployment'].includes(o.kind))
      .flatMap((o) => containers(o).flatMap((c) => c.volumeDevices ?? []));
    expect(devices.length).toBeGreaterThan(0);
  });

  it('multi-node read-write access only for raw block volumes (the plugin refuses it for file systems)', () => {
    for (const p of pvcs) {
      if ((p.spec.accessModes ?? []).some((m: string) => m === 'ReadWriteMany')) expect(p.spec.volumeMode, p.metadata.name).toBe('Block');
    }
  });

  it('expansion: expand.yaml asks more of the same PVC than pvc-pod.yaml', () => {
    const byFile = (f: string): K8sObject => ex.find((d) => d.file.endsWith(`/${f}`) && d.obj.kind === 'PersistentVolumeClaim')!.obj;
    const before = byFile('pvc-pod.yaml');
    const after = byFile('expand.yaml');
    expect(after.metadata.name).toBe(before.metadata.name);
    const gi = (q: string): number => Number(/^(\d+)Gi$/.exec(q)?.[1]);
    expect(gi(after.spec.resources.requests.storage)).toBeGreaterThan(gi(before.spec.resources.requests.storage));
  });
});
