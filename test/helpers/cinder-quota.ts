import { encodeId } from '../../src/cinder/api.js';
import type { HttpCinderClient } from '../../src/cinder/client.js';

/**
 * Sets quota limits (`PUT /os-quota-sets/{project}`) of `projectId`, by default the session's own
 * project, through the client's authenticated request path. Admin only on a real cloud; the
 * driver never sets quotas, so this lives with the tests.
 */
export async function setQuota(client: HttpCinderClient, limits: Record<string, number>, projectId?: string): Promise<void> {
  const project = projectId ?? (await client.api.projectId());
  if (!project) throw new Error('cannot set quotas: the session has no project id');
  await client.api.send({ method: 'PUT', route: '/os-quota-sets/{project}', path: `/os-quota-sets/${encodeId(project)}`, body: { quota_set: limits } });
}
