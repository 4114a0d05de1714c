import type { TargetName } from "@conhub/config";
import { targetCatalog, targetNames } from "@conhub/config";
import { probeClient, type ServiceFetch } from "@conhub/middleware";
import type { PlatformStatus, TargetStatus } from "@conhub/models";

const probeTimeoutMs = 2500;

async function probe(name: TargetName, fetcher: ServiceFetch, url: string): Promise<TargetStatus> {
  const info = targetCatalog[name];
  const base = {
    name,
    title: info.title,
    port: info.port,
    gatewayPrefix: info.gatewayPrefix,
    url,
  };
  const started = performance.now();
  try {
    const client = probeClient(fetcher, probeTimeoutMs);
    const [ready, info] = await Promise.all([client.ready(), client.info()]);
    return {
      ...base,
      reachable: true,
      ready: ready.ready,
      latencyMs: Math.round(performance.now() - started),
      error: null,
      checks: ready.report.checks,
      capabilities: info.capabilities,
    };
  } catch (err) {
    const reason =
      err instanceof Error && err.name === "TimeoutError"
        ? `did not answer within ${probeTimeoutMs} ms`
        : err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
    return {
      ...base,
      reachable: false,
      ready: false,
      latencyMs: null,
      error: `${info.title} at ${url} is unreachable: ${reason}`,
      checks: [],
      capabilities: {
        summary: "Unknown: the service did not answer.",
        available: [],
        planned: [],
        issue: null,
      },
    };
  }
}

/** Asks every target for its readiness and capabilities, all at once. */
export async function collectPlatformStatus(
  services: Record<TargetName, ServiceFetch>,
  urls: Record<TargetName, string>,
  mode: PlatformStatus["mode"],
  version: string,
): Promise<PlatformStatus> {
  const targets = await Promise.all(targetNames.map((name) => probe(name, services[name], urls[name])));
  return { generatedAt: new Date().toISOString(), mode, version, targets };
}
