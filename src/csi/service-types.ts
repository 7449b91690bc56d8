import type { handleUnaryCall } from '@grpc/grpc-js';
import type { ControllerHandlers } from '../generated/csi/v1/Controller.js';
import type { GroupControllerHandlers } from '../generated/csi/v1/GroupController.js';
import type { IdentityHandlers } from '../generated/csi/v1/Identity.js';
import type { NodeHandlers } from '../generated/csi/v1/Node.js';
import type { MethodPolicy, RpcHandler } from './rpc.js';

/**
 * The handler maps of the gRPC edge, typed from the generated services: every RPC of a service
 * must be named, with a handler of its own request and response types or UNIMPLEMENTED, so a
 * missing or misspelled RPC does not compile (it would otherwise answer UNIMPLEMENTED at run time).
 */

/** The RPC names of a generated service: its methods, without grpc-js's untyped index signature. */
type RpcNames<S> = keyof { [K in keyof S as string extends K ? never : K]: S[K] } & string;
type RequestOf<H> = H extends handleUnaryCall<infer Req, infer _Res> ? Req : never;
type ResponseOf<H> = H extends handleUnaryCall<infer _Req, infer Res> ? Res : never;

/** An RPC the driver neither implements nor advertises: the edge answers UNIMPLEMENTED. */
export const UNIMPLEMENTED = 'UNIMPLEMENTED';

export type ServiceHandlers<S> = { [K in RpcNames<S>]: RpcHandler<RequestOf<S[K]>, ResponseOf<S[K]>> | typeof UNIMPLEMENTED };
/** A service whose every RPC is implemented (none is UNIMPLEMENTED). */
export type Implemented<H> = { [K in keyof H]: Exclude<H[K], typeof UNIMPLEMENTED> };
export type ServicePolicies<S> = { [K in RpcNames<S>]?: MethodPolicy<RequestOf<S[K]>> };

export type ControllerRpcs = ServiceHandlers<ControllerHandlers>;
export type GroupControllerRpcs = ServiceHandlers<GroupControllerHandlers>;
export type GroupControllerPolicies = ServicePolicies<GroupControllerHandlers>;
export type NodeRpcs = ServiceHandlers<NodeHandlers>;
export type IdentityRpcs = ServiceHandlers<IdentityHandlers>;
export type ControllerPolicies = ServicePolicies<ControllerHandlers>;
export type NodePolicies = ServicePolicies<NodeHandlers>;
