import { targetCatalog } from "@conhub/config";
import { type BodyLimitRule, createServiceApp, type ServiceApp } from "./app.js";
import type { ReadinessCheck } from "./readiness.js";
import type { PlatformConfig, TargetContext, TargetModule, TargetStorage } from "./target.js";

/** The readiness checks of the storage ports a target uses (one per distinct backend). */
export async function storageReadiness(
  storage: TargetStorage,
  uses: ReadonlyArray<keyof TargetStorage>,
): Promise<ReadinessCheck[]> {
  const checks: ReadinessCheck[] = [];
  for (const port of uses) {
    const adapter = await storage[port]();
    if (!checks.some((c) => c.name === adapter.health.name)) checks.push(adapter.health);
  }
  return checks;
}

/** A target's service app, configured from the platform config and its module declaration. */
export async function createTargetApp(
  ctx: TargetContext<PlatformConfig>,
  module: Pick<TargetModule, "name" | "capabilities" | "uses">,
  options: {
    isStreamingPath?: (path: string) => boolean;
    extraReadiness?: ReadinessCheck[];
    /** Per-route body limits (uploads); every other route keeps HTTP_BODY_LIMIT_BYTES. */
    bodyLimits?: BodyLimitRule[];
  } = {},
): Promise<ServiceApp> {
  const readiness = [
    ...(await storageReadiness(ctx.storage, module.uses)),
    ...(options.extraReadiness ?? []),
  ];
  return createServiceApp({
    name: module.name,
    version: ctx.version,
    logger: ctx.logger,
    gatewayPrefix: targetCatalog[module.name].gatewayPrefix,
    capabilities: module.capabilities,
    readiness,
    limits: { bodyBytes: ctx.config.HTTP_BODY_LIMIT_BYTES, timeoutMs: ctx.config.HTTP_REQUEST_TIMEOUT_MS },
    corsOrigins: ctx.config.CORS_ORIGINS,
    ...(options.isStreamingPath ? { isStreamingPath: options.isStreamingPath } : {}),
    ...(options.bodyLimits ? { bodyLimits: options.bodyLimits } : {}),
  });
}
