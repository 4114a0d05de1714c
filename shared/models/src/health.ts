import { z } from "zod";

/** `GET /health`: the process is alive and serving. */
export const HealthResponse = z.object({
  status: z.literal("ok"),
  service: z.string(),
  version: z.string(),
  uptimeSeconds: z.number(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** One dependency as `/ready` reports it. */
export const DependencyStatus = z.object({
  name: z.string(),
  kind: z.enum(["embedded", "external"]),
  status: z.enum(["up", "down"]),
  latencyMs: z.number(),
  error: z.string().nullable(),
});
export type DependencyStatus = z.infer<typeof DependencyStatus>;

/** `GET /ready`: 200 when every dependency answers, 503 naming the ones that do not. */
export const ReadyResponse = z.object({
  status: z.enum(["ready", "not_ready"]),
  service: z.string(),
  checks: z.array(DependencyStatus),
});
export type ReadyResponse = z.infer<typeof ReadyResponse>;

/** What a target can do today, and what it cannot yet: shown by `conhub doctor` and the status page. */
export const Capabilities = z.object({
  summary: z.string(),
  available: z.array(z.string()),
  planned: z.array(z.string()),
  /** The issue that builds the planned part, if any. */
  issue: z.number().nullable(),
});
export type Capabilities = z.infer<typeof Capabilities>;

/** `GET /info`: who the service is and what it can do today. */
export const ServiceInfo = z.object({
  service: z.string(),
  version: z.string(),
  capabilities: Capabilities,
});
export type ServiceInfo = z.infer<typeof ServiceInfo>;

export const TargetStatus = z.object({
  name: z.string(),
  title: z.string(),
  port: z.number(),
  gatewayPrefix: z.string().nullable(),
  url: z.string(),
  reachable: z.boolean(),
  ready: z.boolean(),
  latencyMs: z.number().nullable(),
  error: z.string().nullable(),
  checks: z.array(DependencyStatus),
  capabilities: Capabilities,
});
export type TargetStatus = z.infer<typeof TargetStatus>;

/** `GET /status.json` on the frontend target: every target's readiness, for the status page. */
export const PlatformStatus = z.object({
  generatedAt: z.string(),
  mode: z.enum(["one-process", "split"]),
  version: z.string(),
  targets: z.array(TargetStatus),
});
export type PlatformStatus = z.infer<typeof PlatformStatus>;
