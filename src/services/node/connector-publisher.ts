import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '../../log/logger.js';
import { errorMessage } from '../../util/errors.js';
import type { NodeKeys } from './key-store.js';
import { signRecord, type ConnectorFacts } from '../node-registry/record.js';
import type { ConnectorRegistry } from '../node-registry/registry.js';

export interface ConnectorPublisherOptions {
  nodeName: string;
  keys: NodeKeys;
  registry: ConnectorRegistry;
  /** Reads the node's current facts (IP, initiator, multipathd, …). */
  gather: () => Promise<ConnectorFacts>;
  log: Logger;
  /** How often the facts are read again. Default 60 s. */
  refreshMs?: number;
  /** How long start() waits for the first publish before carrying on. Default 15 s. */
  firstPublishTimeoutMs?: number;
}

/**
 * Keeps this node's signed connector record in the registry current: published at start, and
 * again whenever a fact changes (a new DHCP address, a regenerated initiator name, multipathd
 * started). The node id never changes with them; controllers read the record at each publish.
 * A registry that cannot be written does not stop the node plugin: the failure is logged and
 * retried, and publishes to this node fail with a message saying why until it works.
 */
export class ConnectorPublisher {
  private published: ConnectorFacts | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly refreshMs: number;

  constructor(private readonly o: ConnectorPublisherOptions) {
    this.refreshMs = o.refreshMs ?? 60_000;
  }

  async start(): Promise<void> {
    const first = this.refresh();
    const limit = new Promise<void>((resolve) => setTimeout(resolve, this.o.firstPublishTimeoutMs ?? 15_000).unref());
    await Promise.race([first, limit]);
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the facts and publishes them when they changed (or were never published). */
  refresh(): Promise<void> {
    this.running ??= this.publishIfChanged().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async publishIfChanged(): Promise<void> {
    let facts: ConnectorFacts;
    try {
      facts = await this.o.gather();
    } catch (err) {
      this.o.log.error({ err: errorMessage(err) }, 'cannot read this node\'s connector facts');
      return;
    }
    if (this.published && isDeepStrictEqual(facts, this.published)) return;
    const wire = signRecord(
      {
        version: 1,
        nodeName: this.o.nodeName,
        issuedAt: new Date().toISOString(),
        sealKey: this.o.keys.seal.publicKey,
        signKey: this.o.keys.sign.publicKey,
        facts,
      },
      this.o.keys.sign,
    );
    try {
      await this.o.registry.publish(this.o.nodeName, wire);
    } catch (err) {
      this.o.log.error(
        { registry: this.o.registry.description, err: errorMessage(err) },
        'cannot publish this node\'s connector record; volumes cannot be published to this node until it works (retried)',
      );
      return;
    }
    if (this.published) this.o.log.warn({ before: this.published, now: facts }, 'connector facts changed; new record published');
    else this.o.log.info({ facts, registry: this.o.registry.description }, 'connector record published');
    this.published = facts;
  }
}
