import { DriverError, errorMessage, notFound, unavailable } from '../../util/errors.js';
import { isStable, parseNodeId } from '../node-id.js';
import { verifyRecord, type ConnectorFacts } from './record.js';
import type { ConnectorRegistry } from './registry.js';

/** What ControllerPublish knows about the node a volume goes to. */
export interface ResolvedNode {
  nodeName: string;
  /** The X25519 key the node's secrets are sealed to. */
  sealKey: string;
  facts: ConnectorFacts;
  /** When the node made its record; undefined for a 0.1.0 (v1) node id. */
  issuedAt?: string;
}

/**
 * The controller's connector source (architecture §3): a v2 node id is looked up in the registry and
 * its record verified; a 0.1.0 v1 id carries its facts inline (multipath as 0.1.0 asked).
 * NOT_FOUND when the node has published no record (its plugin never started, or cannot write the
 * registry); UNAVAILABLE when the registry cannot be read; FAILED_PRECONDITION for a record that
 * is not the node's.
 */
export async function resolveNode(raw: string, registry: ConnectorRegistry, signal?: AbortSignal): Promise<ResolvedNode> {
  const id = parseNodeId(raw);
  if (!isStable(id)) {
    return {
      nodeName: id.nodeName,
      sealKey: id.publicKey,
      facts: { host: id.nodeName, ip: id.ip, ...(id.iqn ? { initiator: id.iqn } : {}), multipath: true, platform: 'x86_64', osType: 'linux2' },
    };
  }
  let wire: string | undefined;
  try {
    wire = await registry.fetch(id.nodeName, signal);
  } catch (err) {
    if (err instanceof DriverError || signal?.aborted) throw err;
    throw unavailable(`cannot read the connector record of node ${id.nodeName} from ${registry.description}: ${errorMessage(err)}`);
  }
  if (wire === undefined) {
    throw notFound(`node ${id.nodeName} has published no connector record in ${registry.description} (is its node plugin running?)`);
  }
  const record = verifyRecord(wire, id);
  return { nodeName: id.nodeName, sealKey: record.sealKey, facts: record.facts, issuedAt: record.issuedAt };
}
