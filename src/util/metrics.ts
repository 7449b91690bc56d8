import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process-wide Prometheus registry; /metrics serves it. */
export const metricsRegistry = new Registry();

let defaultsOn = false;
/** Process metrics (CPU, RSS, event loop) are collected only by the long-running CLI. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'cinder_metal_csi_' });
}
