// proto/csi.proto and the committed src/generated/ types:
// - the generated types are not stale (regenerated with the exact flags of
//   the package.json "gen:proto" script and compared file by file);
// - the generator flags and the runtime loader options agree;
// - field numbers, enum values, services and custom options match CSI
//   spec v1.12.0 (checked with protobufjs reflection on the .proto text).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { afterAll, describe, expect, it } from 'vitest';
import { CSI_LOADER_OPTIONS, loadCsi, loadCsiPackageDefinition } from '../src/csi/proto.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const GENERATED = join(ROOT, 'src', 'generated');

/** The proto-loader-gen-types arguments of the "gen:proto" script. */
function genProtoArgs(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts['gen:proto'];
  if (!script) throw new Error('package.json has no "gen:proto" script');
  const command = script
    .split('&&')
    .map((part) => part.trim())
    .find((part) => part.startsWith('proto-loader-gen-types '));
  if (!command) throw new Error(`"gen:proto" does not run proto-loader-gen-types: ${script}`);
  return command.split(/\s+/).slice(1);
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
  }
  return out.sort();
}

describe('generated types (src/generated)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'csi-gen-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('uses generator flags that match the runtime loader options', () => {
    const args = genProtoArgs();
    expect(args).toEqual(
      expect.arrayContaining([
        '--keepCase',
        '--longs=String',
        '--enums=String',
        '--defaults',
        '--oneofs',
        '--grpcLib=@grpc/grpc-js',
        '--importFileExtension=.js',
        '--outDir=src/generated',
      ]),
    );
    expect(args.at(-1)).toBe('proto/csi.proto');
    expect(CSI_LOADER_OPTIONS).toEqual({ keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  });

  it('is up to date with proto/csi.proto (run `npm run gen:proto` if this fails)', () => {
    const args = genProtoArgs().map((a) => (a.startsWith('--outDir=') ? `--outDir=${tmp}` : a));
    execFileSync(join(ROOT, 'node_modules', '.bin', 'proto-loader-gen-types'), args, { cwd: ROOT, stdio: 'pipe' });

    const fresh = listFiles(tmp);
    const committed = listFiles(GENERATED);
    expect(fresh.length).toBeGreaterThan(80);
    expect(committed).toEqual(fresh);
    const stale = fresh.filter((f) => readFileSync(join(tmp, f), 'utf8') !== readFileSync(join(GENERATED, f), 'utf8'));
    expect(stale).toEqual([]);
  });
});

/** proto/csi.proto parsed by protobufjs; google/protobuf imports come from protobufjs itself. */
function reflect(): protobuf.Root {
  const protobufDir = dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) =>
    target.startsWith('google/protobuf/') ? join(protobufDir, target) : protobuf.util.path.resolve(origin, target);
  root.loadSync(join(ROOT, 'proto', 'csi.proto'), { keepCase: true });
  root.resolveAll();
  return root;
}

function fieldNumbers(root: protobuf.Root, type: string): Record<string, number> {
  const t = root.lookupType(`csi.v1.${type}`);
  return Object.fromEntries(Object.values(t.fields).map((f) => [f.name, f.id]));
}

function enumValues(root: protobuf.Root, name: string): Record<string, number> {
  return { ...root.lookupEnum(`csi.v1.${name}`).values };
}

describe('proto/csi.proto matches CSI spec v1.12.0', () => {
  const root = reflect();

  it('has package csi.v1 with the spec services and RPCs', () => {
    const methods = (svc: string) => Object.keys(root.lookupService(`csi.v1.${svc}`).methods);
    expect(methods('Identity')).toEqual(['GetPluginInfo', 'GetPluginCapabilities', 'Probe']);
    expect(methods('Controller')).toEqual([
      'CreateVolume',
      'DeleteVolume',
      'ControllerPublishVolume',
      'ControllerUnpublishVolume',
      'ValidateVolumeCapabilities',
      'ListVolumes',
      'GetCapacity',
      'ControllerGetCapabilities',
      'CreateSnapshot',
      'DeleteSnapshot',
      'ListSnapshots',
      'GetSnapshot',
      'ControllerExpandVolume',
      'ControllerGetVolume',
      'ControllerModifyVolume',
    ]);
    expect(methods('GroupController')).toEqual([
      'GroupControllerGetCapabilities',
      'CreateVolumeGroupSnapshot',
      'DeleteVolumeGroupSnapshot',
      'GetVolumeGroupSnapshot',
    ]);
    expect(methods('SnapshotMetadata')).toEqual(['GetMetadataAllocated', 'GetMetadataDelta']);
    expect(methods('Node')).toEqual([
      'NodeStageVolume',
      'NodeUnstageVolume',
      'NodePublishVolume',
      'NodeUnpublishVolume',
      'NodeGetVolumeStats',
      'NodeExpandVolume',
      'NodeGetCapabilities',
      'NodeGetInfo',
    ]);
    const sm = root.lookupService('csi.v1.SnapshotMetadata');
    expect(sm.options).toEqual({ '(alpha_service)': true });
    expect(sm.methods.GetMetadataAllocated?.responseStream).toBe(true);
    expect(sm.methods.GetMetadataDelta?.responseStream).toBe(true);
    const ctl = root.lookupService('csi.v1.Controller').methods;
    expect(ctl.GetSnapshot?.options).toEqual({ '(alpha_method)': true });
    expect(ctl.ControllerGetVolume?.options).toEqual({ '(alpha_method)': true });
    expect(ctl.ControllerModifyVolume?.options).toBeUndefined(); // GA since v1.12.0
  });

  it('declares the custom options with the spec extension numbers', () => {
    const ext = (name: string) => {
      const f = root.lookup(`csi.v1.${name}`) as protobuf.Field;
      return [f.extend, f.id];
    };
    expect(ext('csi_secret')).toEqual(['google.protobuf.FieldOptions', 1059]);
    expect(ext('alpha_field')).toEqual(['google.protobuf.FieldOptions', 1060]);
    expect(ext('alpha_enum')).toEqual(['google.protobuf.EnumOptions', 1060]);
    expect(ext('alpha_enum_value')).toEqual(['google.protobuf.EnumValueOptions', 1060]);
    expect(ext('alpha_message')).toEqual(['google.protobuf.MessageOptions', 1060]);
    expect(ext('alpha_method')).toEqual(['google.protobuf.MethodOptions', 1060]);
    expect(ext('alpha_service')).toEqual(['google.protobuf.ServiceOptions', 1060]);
    expect(root.lookupType('csi.v1.CreateVolumeRequest').fields.secrets?.options).toEqual({ '(csi_secret)': true });
    expect(root.lookupType('csi.v1.NodeExpandVolumeRequest').fields.secrets?.options).toEqual({
      '(csi_secret)': true,
      '(alpha_field)': true,
    });
  });

  it('has the spec field numbers', () => {
    expect(fieldNumbers(root, 'CreateVolumeRequest')).toEqual({
      name: 1,
      capacity_range: 2,
      volume_capabilities: 3,
      parameters: 4,
      secrets: 5,
      volume_content_source: 6,
      accessibility_requirements: 7,
      mutable_parameters: 8,
    });
    expect(fieldNumbers(root, 'VolumeCapability')).toEqual({ block: 1, mount: 2, access_mode: 3 });
    expect(fieldNumbers(root, 'VolumeCapability.MountVolume')).toEqual({
      fs_type: 1,
      mount_flags: 2,
      volume_mount_group: 3,
    });
    expect(fieldNumbers(root, 'Volume')).toEqual({
      capacity_bytes: 1,
      volume_id: 2,
      volume_context: 3,
      content_source: 4,
      accessible_topology: 5,
    });
    expect(fieldNumbers(root, 'VolumeCondition')).toEqual({ abnormal: 1, message: 2 });
    expect(fieldNumbers(root, 'ListVolumesResponse.VolumeStatus')).toEqual({
      published_node_ids: 1,
      volume_condition: 2,
    });
    expect(fieldNumbers(root, 'ControllerGetVolumeResponse')).toEqual({ volume: 1, status: 2 });
    expect(fieldNumbers(root, 'ControllerModifyVolumeRequest')).toEqual({
      volume_id: 1,
      secrets: 2,
      mutable_parameters: 3,
    });
    expect(fieldNumbers(root, 'GetCapacityResponse')).toEqual({
      available_capacity: 1,
      maximum_volume_size: 2,
      minimum_volume_size: 3,
    });
    expect(fieldNumbers(root, 'Snapshot')).toEqual({
      size_bytes: 1,
      snapshot_id: 2,
      source_volume_id: 3,
      creation_time: 4,
      ready_to_use: 5,
      group_snapshot_id: 6,
    });
    expect(fieldNumbers(root, 'NodeStageVolumeRequest')).toEqual({
      volume_id: 1,
      publish_context: 2,
      staging_target_path: 3,
      volume_capability: 4,
      secrets: 5,
      volume_context: 6,
    });
    expect(fieldNumbers(root, 'NodePublishVolumeRequest')).toEqual({
      volume_id: 1,
      publish_context: 2,
      staging_target_path: 3,
      target_path: 4,
      volume_capability: 5,
      readonly: 6,
      secrets: 7,
      volume_context: 8,
    });
    expect(fieldNumbers(root, 'NodeGetVolumeStatsResponse')).toEqual({ usage: 1, volume_condition: 2 });
    expect(fieldNumbers(root, 'NodeGetInfoResponse')).toEqual({
      node_id: 1,
      max_volumes_per_node: 2,
      accessible_topology: 3,
    });
    expect(fieldNumbers(root, 'NodeExpandVolumeRequest')).toEqual({
      volume_id: 1,
      volume_path: 2,
      capacity_range: 3,
      staging_target_path: 4,
      volume_capability: 5,
      secrets: 6,
    });
    expect(root.lookupType('csi.v1.Snapshot').fields.creation_time?.type).toBe('.google.protobuf.Timestamp');
    expect(root.lookupType('csi.v1.ProbeResponse').fields.ready?.type).toBe('.google.protobuf.BoolValue');
  });

  it('has the spec enum values', () => {
    expect(enumValues(root, 'VolumeCapability.AccessMode.Mode')).toEqual({
      UNKNOWN: 0,
      SINGLE_NODE_WRITER: 1,
      SINGLE_NODE_READER_ONLY: 2,
      MULTI_NODE_READER_ONLY: 3,
      MULTI_NODE_SINGLE_WRITER: 4,
      MULTI_NODE_MULTI_WRITER: 5,
      SINGLE_NODE_SINGLE_WRITER: 6,
      SINGLE_NODE_MULTI_WRITER: 7,
    });
    expect(enumValues(root, 'PluginCapability.Service.Type')).toEqual({
      UNKNOWN: 0,
      CONTROLLER_SERVICE: 1,
      VOLUME_ACCESSIBILITY_CONSTRAINTS: 2,
      GROUP_CONTROLLER_SERVICE: 3,
      SNAPSHOT_METADATA_SERVICE: 4,
    });
    expect(enumValues(root, 'PluginCapability.VolumeExpansion.Type')).toEqual({ UNKNOWN: 0, ONLINE: 1, OFFLINE: 2 });
    expect(enumValues(root, 'ControllerServiceCapability.RPC.Type')).toEqual({
      UNKNOWN: 0,
      CREATE_DELETE_VOLUME: 1,
      PUBLISH_UNPUBLISH_VOLUME: 2,
      LIST_VOLUMES: 3,
      GET_CAPACITY: 4,
      CREATE_DELETE_SNAPSHOT: 5,
      LIST_SNAPSHOTS: 6,
      CLONE_VOLUME: 7,
      PUBLISH_READONLY: 8,
      EXPAND_VOLUME: 9,
      LIST_VOLUMES_PUBLISHED_NODES: 10,
      VOLUME_CONDITION: 11,
      GET_VOLUME: 12,
      SINGLE_NODE_MULTI_WRITER: 13,
      MODIFY_VOLUME: 14,
      GET_SNAPSHOT: 15,
    });
    expect(enumValues(root, 'NodeServiceCapability.RPC.Type')).toEqual({
      UNKNOWN: 0,
      STAGE_UNSTAGE_VOLUME: 1,
      GET_VOLUME_STATS: 2,
      EXPAND_VOLUME: 3,
      VOLUME_CONDITION: 4,
      SINGLE_NODE_MULTI_WRITER: 5,
      VOLUME_MOUNT_GROUP: 6,
    });
    expect(enumValues(root, 'GroupControllerServiceCapability.RPC.Type')).toEqual({
      UNKNOWN: 0,
      CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT: 1,
    });
    expect(enumValues(root, 'VolumeUsage.Unit')).toEqual({ UNKNOWN: 0, BYTES: 1, INODES: 2 });
    expect(enumValues(root, 'BlockMetadataType')).toEqual({ UNKNOWN: 0, FIXED_LENGTH: 1, VARIABLE_LENGTH: 2 });
  });
});

describe('loadCsi()', () => {
  it('exposes typed services with the csi.v1 method paths', () => {
    const csi = loadCsi();
    expect(csi.Identity.service.GetPluginInfo.path).toBe('/csi.v1.Identity/GetPluginInfo');
    expect(csi.Controller.service.CreateVolume.path).toBe('/csi.v1.Controller/CreateVolume');
    expect(csi.Node.service.NodeGetInfo.path).toBe('/csi.v1.Node/NodeGetInfo');
    expect(csi.SnapshotMetadata.service.GetMetadataDelta.responseStream).toBe(true);
    expect(typeof csi.Node).toBe('function'); // client constructor
    expect(loadCsi()).toBe(csi); // cached
  });

  it('decodes with the configured options (string longs and enums, defaults, oneofs)', () => {
    const { Node, Controller } = loadCsi();
    const info = Node.service.NodeGetInfo;
    const decodedInfo = info.responseDeserialize(info.responseSerialize({ node_id: 'n1', max_volumes_per_node: 64 }));
    expect(decodedInfo).toEqual({ node_id: 'n1', max_volumes_per_node: '64', accessible_topology: null });

    const caps = Controller.service.ControllerGetCapabilities;
    const decodedCaps = caps.responseDeserialize(
      caps.responseSerialize({ capabilities: [{ rpc: { type: 'MODIFY_VOLUME' } }] }),
    );
    expect(decodedCaps.capabilities[0]).toEqual({ rpc: { type: 'MODIFY_VOLUME' }, type: 'rpc' });
  });

  it('puts fields on the wire under the .proto\'s numbers (descriptor agrees with proto/csi.proto)', () => {
    const fromProto = reflect();
    const { Controller, Node } = loadCsi();
    const create = Controller.service.CreateVolume;
    const wire = create.requestSerialize({
      name: 'v',
      accessibility_requirements: { requisite: [{ segments: { zone: 'a' } }] },
      volume_capabilities: [{ mount: {}, access_mode: { mode: 'SINGLE_NODE_MULTI_WRITER' } }],
    });
    const raw = fromProto.lookupType('csi.v1.CreateVolumeRequest').decode(wire).toJSON();
    expect(raw).toMatchObject({ name: 'v', accessibility_requirements: { requisite: [{ segments: { zone: 'a' } }] } });
    expect(raw.volume_capabilities[0].access_mode.mode).toBe('SINGLE_NODE_MULTI_WRITER');
    const info = fromProto.lookupType('csi.v1.NodeGetInfoResponse');
    const encoded = Buffer.from(info.encode(info.fromObject({ node_id: 'n', max_volumes_per_node: 7 })).finish());
    expect(Node.service.NodeGetInfo.responseDeserialize(encoded)).toMatchObject({ node_id: 'n', max_volumes_per_node: '7' });
    expect(Object.keys(loadCsiPackageDefinition()).sort()).toEqual(['csi.v1.Controller', 'csi.v1.GroupController', 'csi.v1.Identity', 'csi.v1.Node', 'csi.v1.SnapshotMetadata']);
  });

  it('is built from a descriptor that is fresh (scripts/gen-csi-descriptor.mjs --check)', () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-csi-descriptor.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).toContain('up to date');
  });
});
