import { preciseNow } from './clock.js';
import type { EmulatorStats, TransitionRecord } from './types.js';

/**
 * Counters a benchmark in another process reads (GET /_emulator/stats): requests per route
 * template, responses per status, injected faults, and every status transition with a precise
 * time stamp, so driver overhead can be told apart from the (emulated) backend's delays.
 */
export class StatsRecorder {
  private data: EmulatorStats = StatsRecorder.empty();

  private static empty(): EmulatorStats {
    return {
      since: preciseNow(),
      requests: {},
      actions: {},
      keystoneRequests: {},
      responses: {},
      faults: {},
      transitions: {},
    };
  }

  private static bump(map: Record<string, number>, key: string): void {
    map[key] = (map[key] ?? 0) + 1;
  }

  request(routeKey: string): void {
    StatsRecorder.bump(this.data.requests, routeKey);
  }

  action(name: string): void {
    StatsRecorder.bump(this.data.actions, name);
  }

  keystoneRequest(routeKey: string): void {
    StatsRecorder.bump(this.data.keystoneRequests, routeKey);
  }

  response(status: number): void {
    StatsRecorder.bump(this.data.responses, String(status));
  }

  fault(kind: string): void {
    StatsRecorder.bump(this.data.faults, kind);
  }

  transition(kind: TransitionRecord['kind'], id: string, from: string | null, to: string): void {
    const list = (this.data.transitions[id] ??= []);
    list.push({ kind, id, from, to, at: preciseNow() });
  }

  /** A deep copy: callers may keep or mutate it. */
  snapshot(): EmulatorStats {
    return structuredClone(this.data);
  }

  reset(): void {
    this.data = StatsRecorder.empty();
  }
}
