import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../host/atomic-file.js';

/**
 * Where nodes publish their signed connector records and controllers read them. The records
 * authenticate themselves (record.ts), so a registry only has to store text per node name.
 * Contract: `fetch` returns undefined when the node has published nothing (never throws for
 * that); any other failure throws, and the controller answers UNAVAILABLE.
 */
export interface ConnectorRegistry {
  /** For messages: "Kubernetes Node annotations", "directory /var/lib/…". */
  readonly description: string;
  publish(nodeName: string, wire: string): Promise<void>;
  fetch(nodeName: string, signal?: AbortSignal): Promise<string | undefined>;
}

/**
 * One file per node in a directory every plugin of the deployment can read and nodes can write:
 * `--mode all` on one host, the demo, the test tiers (a directory shared with a test VM).
 */
export class DirectoryRegistry implements ConnectorRegistry {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `directory ${dir}`;
  }

  async publish(nodeName: string, wire: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const path = this.path(nodeName);
    await replaceFileAtomically(path, wire, 0o644);
  }

  async fetch(nodeName: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(nodeName), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private path(nodeName: string): string {
    // Node names are DNS subdomains (validated in node-id.ts): no '/', no '..' component.
    return join(this.dir, `${nodeName}.json`);
  }
}
