import type { ConnectionData } from '../../brick/connection-data.js';
import { parseConnectionInfo } from '../../cinder/connection-info.js';
import { isBadRequest, isNotFound } from '../../cinder/errors.js';
import type { Attachment, Volume } from '../../cinder/types.js';
import type { RpcContext } from '../../util/context.js';
import { alreadyExists, failedPrecondition, notFound } from '../../util/errors.js';
import { resolveNode, type ResolvedNode } from '../node-registry/resolve.js';
import { encodePublishContext } from '../publish-context.js';
import { removeAll, summary } from './attachment-calls.js';
import { encodeNodeRecord, nodeRecordKey, planAttachments, readNodeRecords, type NodeRecord } from './attachments.js';
import type { HandlerDeps } from './deps.js';
import { hostConnector } from './host-connector.js';
import { CTX_MULTIATTACH, CTX_SHARED_TARGETS } from './constants.js';
import { findVolume } from './lookup.js';
import { isUuid } from './tokens.js';
import type { PublishInput } from './requests.js';
import { isMultiNode, isReadOnlyMode, requireCapabilities } from './volume-capabilities.js';

/**
 * ControllerPublishVolume (architecture §4): reuse this node's attachment, refuse a single-writer
 * volume held by another node (FAILED_PRECONDITION naming it), clear crash leftovers, attach
 * without instance_uuid, complete, and hand the node its connection data with secrets sealed to
 * the node's key.
 *
 * Read-only: `readonly` asks for a Cinder `ro` attachment, which needs microversion 3.54; below
 * that the request fails with FAILED_PRECONDITION (the server, not the request, is lacking) —
 * never a writable attachment for a read-only request. A *_READER_ONLY access mode without the
 * flag gets `ro` where Cinder can, else `rw` (the node mounts read-only either way).
 */
export function publishHandler(d: HandlerDeps) {
  return async (req: PublishInput, ctx: RpcContext): Promise<Record<string, string>> => {
    const { volumeId, capability: cap } = req;
    const node = await resolveNode(req.nodeId, d.registry, ctx.signal);
    const features = await d.cinder.features(ctx);
    if (req.readonly && !features.attachMode) {
      throw failedPrecondition(`a read-only publish needs Cinder API microversion 3.54 (attachment mode); this Cinder offers ${features.serverMaxVersion}`);
    }
    const mode: 'ro' | 'rw' = req.readonly || (isReadOnlyMode(cap) && features.attachMode) ? 'ro' : 'rw';

    const known = knownFromContext(req.volumeContext, features.sharedTargets);
    if (known && !isMultiNode(cap) && isUuid(volumeId)) {
      const fast = await attachDirectly(d, { id: volumeId, ...known }, node, req.nodeId, mode, ctx);
      if (fast) return fast;
    }

    const vol = await findVolume(d.cinder, volumeId, ctx);
    if (!vol) throw notFound(`volume ${volumeId} does not exist`);
    requireCapabilities([cap], { multiattach: vol.multiattach }, 'volume_capability', 'precondition');
    if (!PUBLISHABLE.has(vol.status)) throw failedPrecondition(`volume ${volumeId} is ${vol.status}; it can be published when available or in-use`);

    // A volume that is plainly available has no attachment at all: no need to list.
    const all = vol.status === 'available' && vol.attachments.length === 0 ? [] : await d.cinder.listAttachments({ volumeId }, ctx);
    const records = readNodeRecords(vol.metadata);
    const plan = planAttachments(node.nodeName, vol.attachments, all.map(summary), records);
    const recorded = records.get(node.nodeName);
    const recordedNodeId = recorded?.attachmentId === plan.reuse ? recorded?.nodeId : undefined;
    if (plan.reuse && recordedNodeId !== undefined && recordedNodeId !== req.nodeId) {
      // The node's facts or id changed since this attachment was made (a new address, a new
      // initiator name, an upgrade from a 0.1.0 node id). A pod may be using the volume through
      // the old export right now: it is kept, and re-made with the new connector only after
      // the CO unpublished the volume from this node.
      ctx.log.warn({ volumeId, node: node.nodeName, attachmentId: plan.reuse }, 'ControllerPublish: the node id changed; keeping its attachment');
    }

    if (plan.reuse) {
      const existing = all.find((a) => a.id === plan.reuse) ?? (await d.cinder.getAttachment(plan.reuse, ctx));
      const have = existing.attachMode ?? 'rw';
      if (features.attachMode && have !== mode) {
        throw alreadyExists(`volume ${volumeId} is already published to node ${node.nodeName} as ${have}, not ${mode}; unpublish it first`);
      }
      await removeAll(d, plan.cleanup, ctx);
      await record(d, vol, node, existing.id, req.nodeId, ctx);
      return contextFor(existing, mode, vol, node);
    }

    if (plan.otherNodes.length > 0 && (!vol.multiattach || !isMultiNode(cap))) {
      const held = plan.otherNodes.map((name) => describeNode(records, name)).join(', ');
      throw failedPrecondition(`volume ${volumeId} is already published to ${held} and is not published for multi-node access`);
    }
    await removeAll(d, plan.cleanup, ctx);
    const created = await d.cinder.createAttachment({ volumeId, connector: hostConnector(node), mode }, ctx);
    let publishContext: Record<string, string>;
    try {
      publishContext = contextFor(created, mode, vol, node);
    } catch (err) {
      // Nothing the node could use: do not leave the volume exported to it.
      await removeAll(d, [created.id], ctx).catch(() => undefined);
      throw err;
    }
    // Recorded before completing: every completed attachment has an owner on record. A crash
    // before this leaves an unowned incomplete attachment, which the next call deletes.
    await record(d, vol, node, created.id, req.nodeId, ctx);
    await d.cinder.completeAttachment(created.id, ctx);
    return publishContext;
  };
}

const PUBLISHABLE: ReadonlySet<string> = new Set(['available', 'in-use', 'reserved', 'attaching']);

/** What the publish context needs of the volume: its id and whether its targets are shared. */
type PublishedVolume = Pick<Volume, 'id' | 'sharedTargets'>;

function contextFor(a: Attachment, mode: 'ro' | 'rw', vol: PublishedVolume, node: ResolvedNode): Record<string, string> {
  if (a.connectionInfo.encrypted === true) {
    // No LUKS on the node yet: never hand out a volume whose data must be encrypted.
    throw failedPrecondition(`volume ${vol.id} is encrypted (its volume type has an encryption spec), and this driver cannot open encrypted volumes; use a volume type without encryption`);
  }
  const conn: ConnectionData = parseConnectionInfo(a.connectionInfo, { multipath: node.facts.multipath });
  // The stricter of the two wins. Cinder makes the attachment of a volume whose read-only flag is
  // set (os-update_readonly_flag) read-only, whatever was asked: writing to it is refused here,
  // not at mount.
  // It keeps saying "rw" for an ro attachment: then the mode we asked for is what the node
  // must enforce.
  // Cinder tells it in access_mode only to admins; attach_mode (3.54) says it to everyone.
  if ((conn.accessMode === 'ro' || a.attachMode === 'ro') && mode === 'rw') {
    throw failedPrecondition(
      `volume ${vol.id} is read-only in Cinder (its connection says access_mode ro); publish it read-only ` +
        '(readOnly: true or a READER_ONLY access mode), or clear the flag: openstack volume set --read-write',
    );
  }
  conn.accessMode = mode;
  // Whether the target also carries other volumes' LUNs is a property of the volume (3.48).
  if (conn.type === 'iscsi' && vol.sharedTargets !== undefined) conn.sharedTargets = vol.sharedTargets;
  return encodePublishContext(conn, a.id, vol.id, node.sealKey);
}

/**
 * What the volume_context CreateVolume answered tells about the volume, when it is enough to
 * attach without reading the volume: it says the volume is not multiattach, and it says whether
 * its targets are shared wherever Cinder reports that (3.48), since the node's identity check
 * needs it (a PV without that key takes the path that reads). Undefined otherwise.
 */
function knownFromContext(context: Record<string, string> | undefined, cinderReportsSharedTargets: boolean): Omit<PublishedVolume, 'id'> | undefined {
  if (context?.[CTX_MULTIATTACH] !== 'false') return undefined;
  const shared = context[CTX_SHARED_TARGETS];
  if (shared === 'true' || shared === 'false') return { sharedTargets: shared === 'true' };
  return cinderReportsSharedTargets ? undefined : {};
}

/**
 * The first publish of a single-attach volume, without reading it first: attach, record, complete
 * (three requests). Only for volumes whose volume_context, written by our CreateVolume, says they
 * are not multiattach, and a single-node access mode — then Cinder itself refuses a second
 * attachment (400 "must be available … to reserve"), which is the check the read would make. Any
 * refusal (this node's own attachment on a retry — kept, whatever changed about the node —
 * another node's, leftovers, a busy volume) falls back to the full path, which reads the volume
 * and explains or repairs; undefined says so.
 */
async function attachDirectly(d: HandlerDeps, vol: PublishedVolume, node: ResolvedNode, nodeId: string, mode: 'ro' | 'rw', ctx: RpcContext): Promise<Record<string, string> | undefined> {
  let created: Attachment;
  try {
    created = await d.cinder.createAttachment({ volumeId: vol.id, connector: hostConnector(node), mode }, ctx);
  } catch (err) {
    if (isNotFound(err)) throw notFound(`volume ${vol.id} does not exist`);
    if (isBadRequest(err)) return undefined;
    throw err;
  }
  let publishContext: Record<string, string>;
  try {
    publishContext = contextFor(created, mode, vol, node);
  } catch (err) {
    await removeAll(d, [created.id], ctx).catch(() => undefined);
    throw err;
  }
  await d.cinder.setVolumeMetadata(vol.id, { [nodeRecordKey(node.nodeName)]: encodeNodeRecord(created.id, nodeId) }, ctx);
  await d.cinder.completeAttachment(created.id, ctx);
  return publishContext;
}

async function record(d: HandlerDeps, vol: Volume, node: ResolvedNode, attachmentId: string, nodeId: string, ctx: RpcContext): Promise<void> {
  const key = nodeRecordKey(node.nodeName);
  const value = encodeNodeRecord(attachmentId, nodeId);
  if (vol.metadata[key] === value) return;
  await d.cinder.setVolumeMetadata(vol.id, { [key]: value }, ctx);
}

/** "node worker-2 (node id v1;…)" when the id the CO used is on record, else the name alone. */
function describeNode(records: Map<string, NodeRecord>, name: string): string {
  const id = records.get(name)?.nodeId;
  return id ? `node ${name} (node id ${id})` : `node ${name}`;
}
