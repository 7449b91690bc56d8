import type { Client, ServiceError } from '@grpc/grpc-js';
import { rpc as typedRpc } from '../../src/demo/csi-client.js';

export { csiClients, type CsiClients } from '../../src/demo/csi-client.js';

export interface RpcOutcome<T> {
  code: number;
  details: string;
  res?: T;
}

/** Tests read decoded responses loosely. */
export const rpc = <T = any>(client: Client, method: string, req: unknown, timeoutMs?: number): Promise<T> =>
  typedRpc<T>(client, method, req, timeoutMs);

/** Resolves with the gRPC status code (0 on success), message and response, instead of throwing. */
export async function rpcStatus<T = any>(client: Client, method: string, req: unknown, timeoutMs?: number): Promise<RpcOutcome<T>> {
  try {
    const res = await typedRpc<T>(client, method, req, timeoutMs);
    return { code: 0, details: '', res };
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details };
  }
}
