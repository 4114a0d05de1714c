import type { TargetName } from "@conhub/config";
import { targetCatalog, targetNames } from "@conhub/config";
import type { ServiceFetch } from "@conhub/middleware";
import { type PlatformStatus, ReadyResponse, ServiceInfo, type TargetStatus } from "@conhub/models";

const probeTimeoutMs = 2500;

async function getJson(fetcher: ServiceFetch, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetcher(path, { signal: AbortSignal.timeout(probeTimeoutMs) });
  return { status: response.status, body: await response.json() };
}

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
    const [ready, about] = await Promise.all([getJson(fetcher, "/ready"), getJson(fetcher, "/info")]);
    const readyBody = ReadyResponse.parse(ready.body);
    const infoBody = ServiceInfo.parse(about.body);
    return {
      ...base,
      reachable: true,
      ready: ready.status === 200 && readyBody.status === "ready",
      latencyMs: Math.round(performance.now() - started),
      error: null,
      checks: readyBody.checks,
      capabilities: infoBody.capabilities,
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
