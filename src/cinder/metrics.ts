import { Counter, Histogram, type Registry } from 'prom-client';
import { metricsRegistry } from '../util/metrics.js';

/**
 * Prometheus series for every HTTP attempt to Cinder or Keystone. Labels are route templates
 * (`/volumes/{id}`), never concrete ids, so cardinality stays bounded.
 */
export interface CinderMetrics {
  observe(sample: { service: 'cinder' | 'keystone'; method: string; route: string; status?: number; errorKind?: string; seconds: number }): void;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function statusClass(status: number | undefined): string {
  if (status === undefined) return 'none';
  return `${Math.floor(status / 100)}xx`;
}

export function createCinderMetrics(registry: Registry = metricsRegistry): CinderMetrics {
  const requests = getOrCreate(
    registry,
    'cinder_metal_csi_cinder_requests_total',
    () =>
      new Counter({
        name: 'cinder_metal_csi_cinder_requests_total',
        help: 'HTTP requests to Cinder/Keystone by route template, method and status class',
        labelNames: ['service', 'route', 'method', 'status_class'] as const,
        registers: [registry],
      }),
  );
  const errors = getOrCreate(
    registry,
    'cinder_metal_csi_cinder_request_errors_total',
    () =>
      new Counter({
        name: 'cinder_metal_csi_cinder_request_errors_total',
        help: 'Failed HTTP requests to Cinder/Keystone (error status or no answer) by kind',
        labelNames: ['service', 'route', 'method', 'kind'] as const,
        registers: [registry],
      }),
  );
  const latency = getOrCreate(
    registry,
    'cinder_metal_csi_cinder_request_duration_seconds',
    () =>
      new Histogram({
        name: 'cinder_metal_csi_cinder_request_duration_seconds',
        help: 'Latency of HTTP requests to Cinder/Keystone',
        labelNames: ['service', 'route', 'method'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      }),
  );
  return {
    observe(s) {
      const base = { service: s.service, route: s.route, method: s.method };
      requests.inc({ ...base, status_class: statusClass(s.status) });
      latency.observe(base, s.seconds);
      if (s.errorKind !== undefined) errors.inc({ ...base, kind: s.errorKind });
    },
  };
}
