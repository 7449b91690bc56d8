import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../log/logger.js';
import { grpcAddress, parseEndpoint, type Endpoint } from './endpoint.js';
import { InflightTracker } from './inflight.js';
import { KeyedTryLock } from './locks.js';
import { wrapUnary, type MethodPolicy, type RpcDeps, type RpcHandler } from './rpc.js';

/** A service's handlers by RPC name (as in the proto); missing ones answer UNIMPLEMENTED. */
export type Handlers = Record<string, RpcHandler<never, unknown>>;
export type Policies = Record<string, MethodPolicy<never>>;

export interface ServiceBinding {
  definition: ServiceDefinition;
  handlers: Handlers;
  policies?: Policies;
}

export interface CsiServer {
  endpoint: Endpoint;
  /** The bound address; for tcp://host:0 it carries the chosen port. */
  address: string;
  inflight: InflightTracker;
  /** Stops accepting, lets in-flight RPCs finish within graceMs, removes the socket. */
  shutdown(graceMs: number): Promise<{ drained: boolean }>;
}

export async function startCsiServer(
  endpointRaw: string,
  services: ServiceBinding[],
  log: Logger,
): Promise<CsiServer> {
  const endpoint = parseEndpoint(endpointRaw);
  const deps: RpcDeps = { log, locks: new KeyedTryLock(), inflight: new InflightTracker() };
  const server = new Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024 });
  for (const s of services) server.addService(s.definition, implement(s, deps));

  if (endpoint.kind === 'unix') await prepareSocketPath(endpoint.path, log);
  const port = await bind(server, endpoint);
  if (endpoint.kind === 'unix') await chmod(endpoint.path, 0o600);
  const address = endpoint.kind === 'unix' ? endpoint.path : `${endpoint.host}:${port}`;
  log.info({ endpoint: address }, 'CSI server listening');

  return {
    endpoint,
    address,
    inflight: deps.inflight,
    shutdown: async (graceMs) => {
      const drained = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve(false);
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (endpoint.kind === 'unix') await unlink(endpoint.path).catch(() => undefined);
      return { drained };
    },
  };
}

function implement(s: ServiceBinding, deps: RpcDeps): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const method of Object.keys(s.definition)) {
    const handler = s.handlers[method] as RpcHandler<unknown, unknown> | undefined;
    const policy = (s.policies?.[method] ?? {}) as MethodPolicy<unknown>;
    impl[method] = wrapUnary(method, handler, policy, deps);
  }
  return impl;
}

function bind(server: Server, endpoint: Endpoint): Promise<number> {
  // Sockets are created with the umask; tighten it while binding so the socket is never
  // world-accessible, then chmod makes 0600 explicit.
  const previous = endpoint.kind === 'unix' ? process.umask(0o177) : undefined;
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(grpcAddress(endpoint), ServerCredentials.createInsecure(), (err, port) => {
      if (previous !== undefined) process.umask(previous);
      if (err) reject(new Error(`cannot listen on ${grpcAddress(endpoint)}: ${err.message}`));
      else resolve(port);
    });
  });
}

/** Removes a stale socket left by a crash, but never steals one a live plugin still serves. */
async function prepareSocketPath(path: string, log: Logger): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o750 });
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  if (await isListening(path)) throw new Error(`another process is serving ${path}`);
  await unlink(path);
  log.info({ socket: path }, 'removed a stale socket');
}

function isListening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(path);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
