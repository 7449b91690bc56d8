import type { ConnectorRegistry } from '../../src/services/node-registry/registry.js';

/** Records in this process only: a controller and node plugins of one test share it. */
export class MemoryRegistry implements ConnectorRegistry {
  readonly description = 'this process';
  private readonly records = new Map<string, string>();

  publish(nodeName: string, wire: string): Promise<void> {
    this.records.set(nodeName, wire);
    return Promise.resolve();
  }

  fetch(nodeName: string): Promise<string | undefined> {
    return Promise.resolve(this.records.get(nodeName));
  }
}
