import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

let processRegistry: Registry | undefined;

/** Process-wide metrics (CPU, memory, event loop), registered once per process however many services run in it. */
function sharedProcessRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<"method" | "route" | "status">;
  duration: Histogram<"method" | "route" | "status">;
  /** The service's metrics plus the process's, in Prometheus text format. */
  render(): Promise<{ contentType: string; body: string }>;
}

export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  const requests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests served, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds, by method, route pattern and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    requests,
    duration,
    async render() {
      const merged = Registry.merge([registry, sharedProcessRegistry()]);
      return { contentType: merged.contentType, body: await merged.metrics() };
    },
  };
}
