import type { FaultEngine } from './faults.js';
import type { StatsRecorder } from './stats.js';

/**
 * The asynchronous status machine. Every transition out of a transitional state (creating,
 * extending, deleting) happens `delayMs` later (on a later tick when 0), the way a real
 * cinder-volume answers after the API did. The `stuck` fault parks a transition; changing the
 * faults resumes the parked ones. A transition that was overtaken (os-reset_status, force delete)
 * notices through the object's generation and does nothing.
 */

export type ObjectKind = 'volume' | 'snapshot' | 'backup' | 'group' | 'group_snapshot';

export interface Tracked {
  id: string;
  status: string;
  generation: number;
  updatedAt: number | null;
}

interface Parked {
  kind: ObjectKind;
  obj: Tracked;
  generation: number;
  work: () => Promise<void>;
}

export class Lifecycle {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private parked: Parked[] = [];
  private stopped = false;

  constructor(
    private readonly delayMs: number,
    private readonly stats: StatsRecorder,
    private readonly faults: FaultEngine,
  ) {
    faults.onChange = () => this.resumeParked();
  }

  created(kind: ObjectKind, obj: Tracked): void {
    this.stats.transition(kind, obj.id, null, obj.status);
  }

  setStatus(kind: ObjectKind, obj: Tracked, to: string): void {
    const from = obj.status;
    obj.status = to;
    obj.generation += 1;
    obj.updatedAt = Date.now();
    this.stats.transition(kind, obj.id, from, to);
  }

  gone(kind: ObjectKind, obj: Tracked): void {
    obj.generation += 1;
    this.stats.transition(kind, obj.id, obj.status, 'deleted');
  }

  /**
   * Runs `work` (which performs the transition out of the object's current state) after the delay,
   * unless the state is stuck or the object moved on meanwhile. `work` must handle its own errors.
   */
  later(kind: ObjectKind, obj: Tracked, work: () => Promise<void>): void {
    this.schedule({ kind, obj, generation: obj.generation, work });
  }

  private schedule(p: Parked): void {
    if (this.stopped || p.obj.generation !== p.generation) return;
    if ((p.kind === 'volume' || p.kind === 'snapshot') && this.faults.isStuck(p.kind === 'volume' ? 'volumes' : 'snapshots', p.obj.status)) {
      this.stats.fault('stuck');
      this.parked.push(p);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.stopped || p.obj.generation !== p.generation) return;
      const run = p.work().finally(() => this.running.delete(run));
      this.running.add(run);
    }, this.delayMs);
    this.timers.add(timer);
  }

  private resumeParked(): void {
    const parked = this.parked;
    this.parked = [];
    for (const p of parked) this.schedule(p);
  }

  /** Cancels pending transitions and waits for the ones already running (file copies). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.parked = [];
    await Promise.allSettled([...this.running]);
  }
}
