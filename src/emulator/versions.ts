import type { ApiRequest } from './http.js';
import { formatVersion, MIN_VERSION, type Version } from './microversion.js';

/** Cinder's version document (GET / → 300, GET /v3/ → 200). */
export function versionDocument(req: ApiRequest, max: Version): { versions: unknown[] } {
  return {
    versions: [
      {
        id: 'v3.0',
        status: 'CURRENT',
        version: formatVersion(max),
        min_version: formatVersion(MIN_VERSION),
        updated: '2022-08-31T00:00:00Z',
        links: [
          { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
          { rel: 'self', href: `${req.origin}/v3/` },
        ],
        'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
      },
    ],
  };
}
