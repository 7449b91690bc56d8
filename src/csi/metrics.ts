import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '../util/metrics.js';

/** Per-RPC counters and latency histograms served on /metrics. */
export const rpcTotal = new Counter({
  name: 'cinder_metal_csi_rpc_total',
  help: 'CSI RPCs handled, by method and gRPC code',
  labelNames: ['method', 'code'] as const,
  registers: [metricsRegistry],
});

export const rpcDuration = new Histogram({
  name: 'cinder_metal_csi_rpc_duration_seconds',
  help: 'CSI RPC latency in seconds, by method',
  labelNames: ['method'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
  registers: [metricsRegistry],
});
