import type { Policies } from './server.js';

/**
 * Which keys each RPC holds (architecture §6). Controller and node keys live in separate namespaces:
 * in `all` mode ControllerPublish and NodeStage of one volume may legitimately overlap.
 */
type Req = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const keys = (...ks: string[]) => ks.filter((k) => !k.endsWith(':'));

const byVolume = (prefix: string) => ({ lockKeys: (r: Req) => keys(`${prefix}${str(r.volume_id)}`) });

export const CONTROLLER_LOCKS = {
  CreateVolume: { lockKeys: (r: Req) => keys(`name:${str(r.name)}`) },
  DeleteVolume: byVolume('vol:'),
  ControllerPublishVolume: byVolume('vol:'),
  ControllerUnpublishVolume: byVolume('vol:'),
  ControllerExpandVolume: byVolume('vol:'),
  CreateSnapshot: { lockKeys: (r: Req) => keys(`snapname:${str(r.name)}`) },
  DeleteSnapshot: { lockKeys: (r: Req) => keys(`snap:${str(r.snapshot_id)}`) },
} as unknown as Policies;

export const NODE_LOCKS = {
  NodeStageVolume: byVolume('node-vol:'),
  NodeUnstageVolume: byVolume('node-vol:'),
  NodePublishVolume: byVolume('node-vol:'),
  NodeUnpublishVolume: byVolume('node-vol:'),
  NodeExpandVolume: byVolume('node-vol:'),
} as unknown as Policies;
