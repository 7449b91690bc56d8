import type { KubeClient } from '../../kube/client.js';
import { KubeError } from '../../kube/client.js';
import { DRIVER_NAME } from '../../util/package-info.js';
import type { ConnectorRegistry } from './registry.js';

/** The annotation on each Node object that holds its node plugin's signed connector record. */
export const CONNECTOR_ANNOTATION = `${DRIVER_NAME}/connector`;

/**
 * Connector records as an annotation of the Node object, the way CNI node agents publish their
 * addresses (flannel's `public-ip`): the object lives and dies with the node, every component can
 * read it, and a merge patch changes only our key. RBAC: the node plugin needs `nodes` get and
 * patch, the controller `nodes` get (deploy/). Nodes could patch each other's annotation, but not
 * forge a record: it is signed with the key the node id names.
 */
export class KubernetesRegistry implements ConnectorRegistry {
  readonly description = `the ${CONNECTOR_ANNOTATION} annotation of Node objects`;

  constructor(private readonly kube: KubeClient) {}

  async publish(nodeName: string, wire: string): Promise<void> {
    const r = await this.kube.mergePatch(nodePath(nodeName), { metadata: { annotations: { [CONNECTOR_ANNOTATION]: wire } } });
    if (r.status !== 200) throw new KubeError(r.status, `patching Node ${nodeName} answered ${r.status}: ${reason(r.body)}`);
  }

  async fetch(nodeName: string, signal?: AbortSignal): Promise<string | undefined> {
    const r = await this.kube.get(nodePath(nodeName), signal);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new KubeError(r.status, `reading Node ${nodeName} answered ${r.status}: ${reason(r.body)}`);
    const annotations = (r.body as { metadata?: { annotations?: Record<string, unknown> } } | undefined)?.metadata?.annotations;
    const v = annotations?.[CONNECTOR_ANNOTATION];
    return typeof v === 'string' ? v : undefined;
  }
}

function nodePath(nodeName: string): string {
  return `/api/v1/nodes/${encodeURIComponent(nodeName)}`;
}

/** The Status message Kubernetes answers with, never the whole body. */
function reason(body: unknown): string {
  const m = (body as { message?: unknown } | undefined)?.message;
  return typeof m === 'string' ? m.slice(0, 200) : 'no message';
}
