import { createHash } from 'node:crypto';
import { parseNodeId } from '../node-id.js';
import { CINDER_META_MAX, META_NODE_PREFIX } from './constants.js';

/**
 * Matching Cinder attachments to nodes (architecture §3–4).
 *
 * Cinder shows who holds an attachment only partly: `volume.attachments[].host_name` is the
 * connector's host — but only for completed attachments, and only to admins (Cinder hides it
 * from project members). So the driver keeps its own record, in volume metadata, one key per
 * node: `<prefix>/node/<node name>` = "<attachment id> <node id the CO used>", written after
 * `POST /attachments` and before `os-complete`. Ownership: Cinder's host when shown, else the
 * record. A record is never removed (unpublish leaves it, the node's next publish overwrites
 * it): it only ever speaks for the attachment id it names, and attachment ids are not reused,
 * so the record of a deleted attachment owns nothing. Incomplete (`reserved`/`attaching`) attachments that nobody owns are leftovers of a
 * publish that died before recording them — publishes of one volume are serialised (the edge's
 * `vol:` lock, one leader), so none can be in progress while we look — and are deleted.
 */
export interface CompletedAttachment {
  attachmentId: string;
  hostName?: string;
}

export interface AttachmentSummary {
  id: string;
  status: string;
  /** The connector host, when Cinder reports it for this attachment. */
  hostName?: string;
}

/** What the driver recorded for one node. */
export interface NodeRecord {
  nodeName: string;
  attachmentId: string;
  nodeId: string;
}

export const INCOMPLETE_STATUSES: ReadonlySet<string> = new Set(['reserved', 'attaching', 'error_attaching']);

/** Metadata key of a node's record (≤ 255 characters, Cinder's limit). */
export function nodeRecordKey(nodeName: string): string {
  const key = META_NODE_PREFIX + nodeName;
  if (key.length <= CINDER_META_MAX) return key;
  return `${META_NODE_PREFIX}sha256-${createHash('sha256').update(nodeName).digest('hex').slice(0, 40)}`;
}

/** ≤ 36 + 1 + 192 characters: fits Cinder's 255-character metadata values. */
export function encodeNodeRecord(attachmentId: string, nodeId: string): string {
  return `${attachmentId} ${nodeId}`;
}

/** Every well-formed record; a blanked (unpublished) or damaged one names no node. */
export function readNodeRecords(metadata: Record<string, string> | undefined): Map<string, NodeRecord> {
  const out = new Map<string, NodeRecord>();
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (!key.startsWith(META_NODE_PREFIX) || !value) continue;
    const space = value.indexOf(' ');
    if (space <= 0) continue;
    const attachmentId = value.slice(0, space);
    const nodeId = value.slice(space + 1);
    try {
      const nodeName = parseNodeId(nodeId).nodeName;
      if (nodeRecordKey(nodeName) === key) out.set(nodeName, { nodeName, attachmentId, nodeId });
    } catch {
      // Not a node id this driver wrote: ignored.
    }
  }
  return out;
}

/** Attachment id → node name, from Cinder's host names first, then the records. */
function owners(completed: readonly CompletedAttachment[], all: readonly AttachmentSummary[] | undefined, records: Map<string, NodeRecord>): Map<string, string> {
  const owner = new Map<string, string>();
  for (const r of records.values()) owner.set(r.attachmentId, r.nodeName);
  for (const a of all ?? []) if (a.hostName) owner.set(a.id, a.hostName);
  for (const c of completed) if (c.hostName) owner.set(c.attachmentId, c.hostName);
  return owner;
}

export interface AttachmentPlan {
  /** A completed attachment of this node to hand out again. */
  reuse?: string;
  /** To delete before attaching: this node's broken or surplus ones, and unowned incomplete ones. */
  cleanup: string[];
  /** Other nodes holding the volume (completed, or incomplete with a known owner). */
  otherNodes: string[];
}

export function planAttachments(
  nodeName: string,
  completed: readonly CompletedAttachment[],
  all: readonly AttachmentSummary[] | undefined,
  records: Map<string, NodeRecord>,
): AttachmentPlan {
  const owner = owners(completed, all, records);
  const statusOf = new Map((all ?? []).map((a) => [a.id, a.status]));
  const completedIds = new Set(completed.map((c) => c.attachmentId));
  const cleanup: string[] = [];
  const others = new Set<string>();
  let reuse: string | undefined;
  for (const c of completed) {
    const who = owner.get(c.attachmentId);
    if (who !== nodeName) {
      others.add(who ?? 'an unknown host');
      continue;
    }
    const status = statusOf.get(c.attachmentId);
    // Reusable while Cinder still calls it attached; one being detached is replaced.
    if (reuse === undefined && (status === undefined || status === 'attached')) reuse = c.attachmentId;
    else cleanup.push(c.attachmentId);
  }
  for (const a of all ?? []) {
    if (completedIds.has(a.id) || !INCOMPLETE_STATUSES.has(a.status)) continue;
    const who = owner.get(a.id);
    if (who !== undefined && who !== nodeName) others.add(who);
    else cleanup.push(a.id);
  }
  return { ...(reuse ? { reuse } : {}), cleanup, otherNodes: [...others] };
}

/**
 * What ControllerUnpublish deletes: every attachment of this node whatever its status, plus
 * unowned incomplete ones; without a node: all of them (the spec's "from all nodes").
 */
export function attachmentsToRemove(
  nodeName: string | undefined,
  completed: readonly CompletedAttachment[],
  all: readonly AttachmentSummary[] | undefined,
  records: Map<string, NodeRecord>,
): string[] {
  const ids = new Set<string>();
  const owner = owners(completed, all, records);
  for (const c of completed) if (nodeName === undefined || owner.get(c.attachmentId) === nodeName) ids.add(c.attachmentId);
  for (const a of all ?? []) {
    const who = owner.get(a.id);
    if (nodeName === undefined || who === nodeName || (who === undefined && INCOMPLETE_STATUSES.has(a.status))) ids.add(a.id);
  }
  return [...ids];
}

/**
 * published_node_ids: the node ids the CO used, for the nodes that hold a completed attachment.
 * A holder without a record (attached by something else) is left out: the CO then re-publishes,
 * which is idempotent.
 */
export function publishedNodeIds(completed: readonly CompletedAttachment[], records: Map<string, NodeRecord>): string[] {
  const owner = owners(completed, undefined, records);
  const out = new Set<string>();
  for (const c of completed) {
    const who = owner.get(c.attachmentId);
    const rec = who === undefined ? undefined : records.get(who);
    // A record left from an earlier attachment of that node does not vouch for this one.
    if (rec && rec.attachmentId === c.attachmentId) out.add(rec.nodeId);
  }
  return [...out].sort();
}

/** Names of the nodes holding completed attachments, for messages. */
export function holders(completed: readonly CompletedAttachment[], records: Map<string, NodeRecord>): string[] {
  const owner = owners(completed, undefined, records);
  return [...new Set(completed.map((c) => owner.get(c.attachmentId) ?? 'an unknown host'))];
}
