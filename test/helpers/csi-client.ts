import type { Client } from '@grpc/grpc-js';
import { rpc as typedRpc, rpcStatus as typedRpcStatus, type RpcOutcome } from '../../src/demo/csi-client.js';

export { csiClients, type CsiClients } from '../../src/demo/csi-client.js';

/** Tests read decoded responses loosely. */
export const rpc = <T = any>(client: Client, method: string, req: unknown, timeoutMs?: number): Promise<T> =>
  typedRpc<T>(client, method, req, timeoutMs);

export const rpcStatus = <T = any>(client: Client, method: string, req: unknown, timeoutMs?: number): Promise<RpcOutcome<T>> =>
  typedRpcStatus<T>(client, method, req, timeoutMs);
