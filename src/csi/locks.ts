/**
 * Per-key try-locks: a second operation on a key that is busy does not queue behind the first
 * (the CO would pile up retries); it fails at once and the edge answers ABORTED, as the CSI spec
 * asks for an operation already in progress.
 */
export class KeyedTryLock {
  private readonly held = new Set<string>();

  /** Takes every key or none; returns the release function, or the first busy key. */
  tryAcquire(keys: readonly string[]): { release: () => void } | { busy: string } {
    const unique = [...new Set(keys)];
    const busy = unique.find((k) => this.held.has(k));
    if (busy !== undefined) return { busy };
    for (const k of unique) this.held.add(k);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        for (const k of unique) this.held.delete(k);
      },
    };
  }

  get size(): number {
    return this.held.size;
  }
}
