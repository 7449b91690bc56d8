import type { CreateVolumeGroupSnapshotRequest__Output } from '../../src/generated/csi/v1/CreateVolumeGroupSnapshotRequest.js';
import type { CreateVolumeGroupSnapshotResponse } from '../../src/generated/csi/v1/CreateVolumeGroupSnapshotResponse.js';
import type { DeleteVolumeGroupSnapshotRequest__Output } from '../../src/generated/csi/v1/DeleteVolumeGroupSnapshotRequest.js';
import type { GetVolumeGroupSnapshotRequest__Output } from '../../src/generated/csi/v1/GetVolumeGroupSnapshotRequest.js';
import type { GetVolumeGroupSnapshotResponse } from '../../src/generated/csi/v1/GetVolumeGroupSnapshotResponse.js';
import type { GroupControllerGetCapabilitiesResponse } from '../../src/generated/csi/v1/GroupControllerGetCapabilitiesResponse.js';
import { groupControllerRpcs } from '../../src/csi/group-controller.js';
import { randomBytes } from 'node:crypto';
import { MemoryRegistry } from '../fakes/memory-registry.js';
import { HttpCinderClient } from '../../src/cinder/client.js';
import type { CinderClientConfig } from '../../src/cinder/config.js';
import { createControllerWaiters } from '../../src/cinder/waiters.js';
import { mapError } from '../../src/csi/error-map.js';
import { DEFAULT_USER, startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import type { ControllerExpandVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerExpandVolumeRequest.js';
import type { ControllerExpandVolumeResponse } from '../../src/generated/csi/v1/ControllerExpandVolumeResponse.js';
import type { ControllerGetVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerGetVolumeRequest.js';
import type { ControllerGetVolumeResponse } from '../../src/generated/csi/v1/ControllerGetVolumeResponse.js';
import type { ControllerPublishVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerPublishVolumeRequest.js';
import type { ControllerPublishVolumeResponse } from '../../src/generated/csi/v1/ControllerPublishVolumeResponse.js';
import type { ControllerUnpublishVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerUnpublishVolumeRequest.js';
import type { CreateSnapshotRequest__Output } from '../../src/generated/csi/v1/CreateSnapshotRequest.js';
import type { CreateSnapshotResponse } from '../../src/generated/csi/v1/CreateSnapshotResponse.js';
import type { CreateVolumeRequest__Output } from '../../src/generated/csi/v1/CreateVolumeRequest.js';
import type { CreateVolumeResponse } from '../../src/generated/csi/v1/CreateVolumeResponse.js';
import type { DeleteSnapshotRequest__Output } from '../../src/generated/csi/v1/DeleteSnapshotRequest.js';
import type { DeleteVolumeRequest__Output } from '../../src/generated/csi/v1/DeleteVolumeRequest.js';
import type { GetCapacityRequest__Output } from '../../src/generated/csi/v1/GetCapacityRequest.js';
import type { GetCapacityResponse } from '../../src/generated/csi/v1/GetCapacityResponse.js';
import type { ListSnapshotsRequest__Output } from '../../src/generated/csi/v1/ListSnapshotsRequest.js';
import type { ListSnapshotsResponse } from '../../src/generated/csi/v1/ListSnapshotsResponse.js';
import type { GetSnapshotRequest__Output } from '../../src/generated/csi/v1/GetSnapshotRequest.js';
import type { ControllerModifyVolumeRequest__Output } from '../../src/generated/csi/v1/ControllerModifyVolumeRequest.js';
import type { GetSnapshotResponse } from '../../src/generated/csi/v1/GetSnapshotResponse.js';
import type { ListVolumesRequest__Output } from '../../src/generated/csi/v1/ListVolumesRequest.js';
import type { ListVolumesResponse } from '../../src/generated/csi/v1/ListVolumesResponse.js';
import type { ValidateVolumeCapabilitiesRequest__Output } from '../../src/generated/csi/v1/ValidateVolumeCapabilitiesRequest.js';
import type { ValidateVolumeCapabilitiesResponse } from '../../src/generated/csi/v1/ValidateVolumeCapabilitiesResponse.js';
import type { VolumeCapability__Output } from '../../src/generated/csi/v1/VolumeCapability.js';
import type { ControllerGetCapabilitiesResponse } from '../../src/generated/csi/v1/ControllerGetCapabilitiesResponse.js';
import type { Logger } from '../../src/log/logger.js';
import { controllerRpcs } from '../../src/csi/controller.js';
import { createControllerOperations } from '../../src/services/controller/index.js';

type ControllerHandler = (req: never, ctx: RpcContext) => Promise<unknown>;
import { formatNodeId, keyFingerprint } from '../../src/services/node-id.js';
import type { NodeKeys } from '../../src/services/node/key-store.js';
import { signRecord, type ConnectorFacts } from '../../src/services/node-registry/record.js';
import type { ConnectorRegistry } from '../../src/services/node-registry/registry.js';
import { generateSigningKeyPair } from '../../src/util/sign.js';
import type { RpcContext } from '../../src/util/context.js';
import { Code } from '../../src/csi/status-codes.js';
import { generateNodeKeyPair, type NodeKeyPair } from '../../src/util/seal.js';
import { capturingLogger } from '../helpers/log-capture.js';

/**
 * The controller's handlers over REAL HTTP: the emulator, the real HttpCinderClient and its
 * batched waiters — everything but the gRPC edge, which the handlers must not rely on.
 */
export const CLUSTER = 'test-cluster';

type H<Req, Res> = (req: Req, ctx: RpcContext) => Promise<Res>;
export interface Rpcs {
  CreateVolume: H<CreateVolumeRequest__Output, CreateVolumeResponse>;
  DeleteVolume: H<DeleteVolumeRequest__Output, object>;
  ControllerPublishVolume: H<ControllerPublishVolumeRequest__Output, ControllerPublishVolumeResponse>;
  ControllerUnpublishVolume: H<ControllerUnpublishVolumeRequest__Output, object>;
  ValidateVolumeCapabilities: H<ValidateVolumeCapabilitiesRequest__Output, ValidateVolumeCapabilitiesResponse>;
  ListVolumes: H<ListVolumesRequest__Output, ListVolumesResponse>;
  GetCapacity: H<GetCapacityRequest__Output, GetCapacityResponse>;
  ControllerGetCapabilities: H<object, ControllerGetCapabilitiesResponse>;
  CreateSnapshot: H<CreateSnapshotRequest__Output, CreateSnapshotResponse>;
  DeleteSnapshot: H<DeleteSnapshotRequest__Output, object>;
  ListSnapshots: H<ListSnapshotsRequest__Output, ListSnapshotsResponse>;
  GetSnapshot: H<GetSnapshotRequest__Output, GetSnapshotResponse>;
  ControllerExpandVolume: H<ControllerExpandVolumeRequest__Output, ControllerExpandVolumeResponse>;
  ControllerGetVolume: H<ControllerGetVolumeRequest__Output, ControllerGetVolumeResponse>;
  ControllerModifyVolume: H<ControllerModifyVolumeRequest__Output, object>;
  CreateVolumeGroupSnapshot: H<CreateVolumeGroupSnapshotRequest__Output, CreateVolumeGroupSnapshotResponse>;
  DeleteVolumeGroupSnapshot: H<DeleteVolumeGroupSnapshotRequest__Output, object>;
  GetVolumeGroupSnapshot: H<GetVolumeGroupSnapshotRequest__Output, GetVolumeGroupSnapshotResponse>;
  GroupControllerGetCapabilities: H<object, GroupControllerGetCapabilitiesResponse>;
}

export interface Harness {
  emu: RunningEmulator;
  client: HttpCinderClient;
  /** Every CinderClient call the primary controller made (method and arguments, minus options). */
  calls: Array<{ method: string; args: unknown[] }>;
  rpc: Rpcs;
  /** Where the test's nodes publish their connector records (shared by every replica). */
  registry: MemoryRegistry;
  /** Another controller replica (own client, waiters and handlers) on the same Cinder. */
  replica(): Rpcs;
  log: Logger;
  logText(): string;
  ctx(timeoutMs?: number): RpcContext;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: EmulatorOptions;
  keystone?: boolean;
  ignoreVolumeAz?: boolean;
  clusterId?: string;
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const emu = await startEmulator({ ...(o.keystone ? { keystonePort: 0 } : {}), ...o.emulator });
  const { log, text } = capturingLogger('debug');
  const config: CinderClientConfig = o.keystone
    ? {
        authStrategy: 'keystone',
        authUrl: emu.keystoneUrl,
        username: DEFAULT_USER.name,
        password: DEFAULT_USER.password,
        userDomainName: 'Default',
        projectName: DEFAULT_USER.project,
        projectDomainName: 'Default',
      }
    : { authStrategy: 'noauth', cinderEndpoint: emu.cinderEndpoint };
  const clients: HttpCinderClient[] = [];
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const registry = new MemoryRegistry();
  const build = (): Rpcs => {
    const client = new HttpCinderClient(config, { log, retry: { baseDelayMs: 20, maxDelayMs: 200 } });
    clients.push(client);
    const record = clients.length === 1;
    const recording = new Proxy(client, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          if (record) calls.push({ method: prop, args: args.slice(0, -1) });
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const operations = createControllerOperations({
      cinder: recording,
      waiter: createControllerWaiters(client, { log }),
      clusterId: o.clusterId ?? CLUSTER,
      registry,
      ignoreVolumeAz: o.ignoreVolumeAz ?? false,
      log,
    });
    // The GroupController's RPCs ride along: they run wherever the controller runs.
    return { ...controllerRpcs(operations), ...groupControllerRpcs(operations) } as unknown as Rpcs & Record<string, ControllerHandler>;
  };
  const rpc = build();
  const client = clients[0] as HttpCinderClient;
  return {
    emu,
    client,
    calls,
    rpc,
    registry,
    replica: build,
    log,
    logText: text,
    ctx: (timeoutMs = 10_000) => makeCtx(log, timeoutMs),
    stop: async () => {
      for (const c of clients) c.close();
      await emu.stop();
    },
  };
}

export function makeCtx(log: Logger, timeoutMs: number): RpcContext {
  const deadline = Date.now() + timeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(Object.assign(new Error('deadline exceeded'), { name: 'DeadlineExceeded' })), timeoutMs);
  timer.unref();
  return { requestId: randomBytes(4).toString('hex'), signal: controller.signal, deadline, log };
}

/** The code and message the caller would see (through the edge's one mapping table). */
export async function failure(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const m = mapError(err);
    return { code: m.code, message: m.message };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export function mountCap(mode: string = 'SINGLE_NODE_WRITER', fsType = ''): VolumeCapability__Output {
  return {
    access_type: 'mount',
    mount: { fs_type: fsType, mount_flags: [], volume_mount_group: '' },
    access_mode: { mode: mode as NonNullable<VolumeCapability__Output['access_mode']>['mode'] },
  };
}

export function blockCap(mode: string = 'SINGLE_NODE_WRITER'): VolumeCapability__Output {
  return { access_type: 'block', block: {}, access_mode: { mode: mode as NonNullable<VolumeCapability__Output['access_mode']>['mode'] } };
}

const GiB = 1024 ** 3;

export function createReq(name: string, o: Partial<CreateVolumeRequest__Output> = {}): CreateVolumeRequest__Output {
  return {
    name,
    capacity_range: { required_bytes: String(GiB), limit_bytes: '0' },
    volume_capabilities: [mountCap()],
    parameters: {},
    secrets: {},
    volume_content_source: null,
    accessibility_requirements: null,
    mutable_parameters: {},
    ...o,
  };
}

export function publishReq(volumeId: string, nodeId: string, o: Partial<ControllerPublishVolumeRequest__Output> = {}): ControllerPublishVolumeRequest__Output {
  return { volume_id: volumeId, node_id: nodeId, volume_capability: mountCap(), readonly: false, secrets: {}, volume_context: {}, ...o };
}

export function unpublishReq(volumeId: string, nodeId: string): ControllerUnpublishVolumeRequest__Output {
  return { volume_id: volumeId, node_id: nodeId, secrets: {} };
}

export function snapshotReq(name: string, sourceVolumeId: string, parameters: Record<string, string> = {}): CreateSnapshotRequest__Output {
  return { name, source_volume_id: sourceVolumeId, secrets: {}, parameters };
}

export interface TestNode {
  name: string;
  id: string;
  keys: NodeKeyPair;
}

let nodeSeq = 0;
export function testNode(name = `worker-${++nodeSeq}`, withIqn = true): TestNode {
  const keys = generateNodeKeyPair();
  const id = formatNodeId({
    nodeName: name,
    ip: `10.0.0.${(nodeSeq % 250) + 1}`,
    ...(withIqn ? { iqn: `iqn.2004-10.com.ubuntu:01:${name.replace(/[^a-z0-9]/g, '')}` } : {}),
    publicKey: keys.publicKey,
  });
  return { name, id, keys };
}

export interface StableTestNode {
  name: string;
  /** The v2 node id: name and key fingerprint, nothing that may change. */
  id: string;
  keys: NodeKeys;
  /** Signs and publishes new facts, as the node plugin does when they change. */
  publish(facts: Partial<ConnectorFacts>): Promise<void>;
}

/** A node as a 0.2 node plugin presents itself: a v2 id, and its signed record in the registry. */
export async function stableNode(registry: ConnectorRegistry, name = `node-${++nodeSeq}`, facts: Partial<ConnectorFacts> = {}): Promise<StableTestNode> {
  const keys: NodeKeys = { seal: generateNodeKeyPair(), sign: generateSigningKeyPair() };
  const id = formatNodeId({ nodeName: name, fingerprint: keyFingerprint(keys.seal.publicKey, keys.sign.publicKey) });
  const publish = async (f: Partial<ConnectorFacts>): Promise<void> => {
    const all: ConnectorFacts = { host: name, ip: `10.1.0.${(nodeSeq % 250) + 1}`, multipath: false, platform: 'x86_64', osType: 'linux2', ...f };
    const record = { version: 1 as const, nodeName: name, issuedAt: new Date().toISOString(), sealKey: keys.seal.publicKey, signKey: keys.sign.publicKey, facts: all };
    await registry.publish(name, signRecord(record, keys.sign));
  };
  await publish(facts);
  return { name, id, keys, publish };
}

/** Requests per route since the last reset, without the per-process version negotiation. */
export function requestCounts(emu: RunningEmulator): { total: number; routes: Record<string, number> } {
  const routes = { ...emu.stats().requests };
  delete routes['GET /'];
  delete routes['GET /v3/'];
  const total = Object.values(routes).reduce((a, b) => a + b, 0);
  return { total, routes };
}
