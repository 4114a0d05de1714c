import type { ServiceFetch } from "@conhub/middleware";
import { errors } from "@conhub/utils";

/** What the data service tells the webhook service about a source (internal API). */
export interface WebhookContext {
  sourceId: string;
  organizationId: string;
  type: string;
  config: { url?: string; branch?: string };
  secret: string;
}

export interface SourceDirectory {
  /** The source's webhook context, or undefined when there is no such source. */
  get(sourceId: string): Promise<WebhookContext | undefined>;
  /** Asks for a webhook-triggered sync; undefined when the source no longer exists. */
  requestSync(
    sourceId: string,
    request: { mode: "full" | "incremental"; paths?: string[] },
  ): Promise<{ jobId: string } | undefined>;
}

async function failure(res: Response, what: string): Promise<Error> {
  const text = await res.text().catch(() => "");
  let detail = text.slice(0, 300);
  try {
    detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
  } catch {
    // not JSON: keep the text
  }
  return errors.unavailable(`The data service could not ${what} (HTTP ${res.status}: ${detail}).`, 5);
}

/**
 * The data service's internal webhook API, through a ServiceFetch that
 * carries the webhook service's service token. Contexts are cached for
 * `cacheMs`: a rotated secret is picked up within that delay.
 */
export function sourceDirectory(fetch: ServiceFetch, cacheMs: number): SourceDirectory {
  const cache = new Map<string, { context: WebhookContext | undefined; until: number }>();
  const call = async (path: string, init?: RequestInit) => {
    try {
      return await fetch(path, init);
    } catch (err) {
      throw errors.unavailable(
        `The data service is unreachable: ${err instanceof Error ? err.message : String(err)}`,
        5,
      );
    }
  };
  return {
    async get(sourceId) {
      const hit = cache.get(sourceId);
      if (hit && hit.until > Date.now()) return hit.context;
      const res = await call(`/internal/sources/${encodeURIComponent(sourceId)}/webhook`);
      if (res.status === 404 || res.status === 400) {
        await res.body?.cancel();
        // Remembered too, so posts to made-up ids do not each cost a call to the data service.
        if (cacheMs > 0) cache.set(sourceId, { context: undefined, until: Date.now() + cacheMs });
        return undefined;
      }
      if (!res.ok) throw await failure(res, "look up the source");
      const context = (await res.json()) as WebhookContext;
      if (cacheMs > 0) {
        if (cache.size > 10_000) cache.clear();
        cache.set(sourceId, { context, until: Date.now() + cacheMs });
      }
      return context;
    },
    async requestSync(sourceId, request) {
      const res = await call(`/internal/sources/${encodeURIComponent(sourceId)}/sync`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      if (res.status === 404) {
        await res.body?.cancel();
        cache.delete(sourceId);
        return undefined;
      }
      if (!res.ok) throw await failure(res, "queue the sync");
      return (await res.json()) as { jobId: string };
    },
  };
}
