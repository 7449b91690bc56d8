import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadCsi } from '../csi/proto.js';

/**
 * A small CSI client over a real socket, as the sidecars and kubelet talk to the plugin. The
 * demo uses it, and so do the integration, conformance and e2e tests.
 */
export interface CsiClients {
  identity: Client;
  controller: Client;
  /** The GroupController service (VolumeGroupSnapshots), served with the controller. */
  groups: Client;
  node: Client;
  close(): void;
}

export function csiClients(address: string): CsiClients {
  const csi = loadCsi();
  const target = address.startsWith('/') ? `unix:${address}` : address;
  const identity = new csi.Identity(target, credentials.createInsecure());
  const controller = new csi.Controller(target, credentials.createInsecure());
  const node = new csi.Node(target, credentials.createInsecure());
  const groups = new csi.GroupController(target, credentials.createInsecure());
  return {
    identity,
    controller,
    groups,
    node,
    close: () => {
      identity.close();
      controller.close();
      groups.close();
      node.close();
    },
  };
}

type Unary = (
  req: unknown,
  md: Metadata,
  opts: { deadline: number },
  cb: (err: ServiceError | null, res: unknown) => void,
) => void;

/** Responses are plain decoded protobuf objects; callers read the fields they know. */
/** Calls `method` (the proto RPC name, e.g. "CreateVolume") and resolves with the response. */
export function rpc<T = Record<string, unknown>>(
  client: Client,
  method: string,
  req: unknown,
  timeoutMs = 30_000,
): Promise<T> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (typeof fn !== 'function') throw new Error(`no RPC ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, req, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res as T),
    );
  });
}
