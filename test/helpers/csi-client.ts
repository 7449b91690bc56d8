import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadCsi } from '../../src/csi/proto.js';

/** gRPC clients for the three CSI services over a real socket, with promise-returning calls. */
export interface CsiClients {
  identity: Client;
  controller: Client;
  node: Client;
  close(): void;
}

export function csiClients(address: string): CsiClients {
  const csi = loadCsi();
  const target = address.startsWith('/') ? `unix:${address}` : address;
  const identity = new csi.Identity(target, credentials.createInsecure());
  const controller = new csi.Controller(target, credentials.createInsecure());
  const node = new csi.Node(target, credentials.createInsecure());
  return {
    identity,
    controller,
    node,
    close: () => {
      identity.close();
      controller.close();
      node.close();
    },
  };
}

type Unary = (req: unknown, md: Metadata, opts: { deadline: number }, cb: (err: ServiceError | null, res: unknown) => void) => void;

/** Calls `method` (the proto RPC name, e.g. "CreateVolume") and resolves with the response. */
export function rpc<T = Record<string, any>>(client: Client, method: string, req: unknown, timeoutMs = 30_000): Promise<T> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (typeof fn !== 'function') throw new Error(`no RPC ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

/** Resolves with the gRPC status code (0 on success) and message. */
export async function rpcStatus(client: Client, method: string, req: unknown, timeoutMs = 30_000): Promise<{ code: number; details: string; res?: any }> {
  try {
    const res = await rpc(client, method, req, timeoutMs);
    return { code: 0, details: '', res };
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details };
  }
}
