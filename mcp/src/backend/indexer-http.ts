import type { ServiceFetch } from "@conhub/middleware";
import {
  BackendError,
  type ContextBackend,
  type DocumentAnswer,
  type DocumentPage,
  type Filters,
  type GrepAnswer,
  type SearchAnswer,
  type SourceAnswer,
  type SymbolAnswer,
} from "./port.js";

/** The indexer's API prefix; the same path on the indexer itself and through the gateway. */
export const indexerApi = "/indexer/api";

interface Problem {
  detail?: string;
  errors?: Array<{ field?: string; reason?: string }>;
}

export interface IndexerHttpOptions {
  /** `ctx.services.indexer` (in-process or HTTP), or `httpFetch(<gateway URL>)` from the CLI. */
  fetch: ServiceFetch;
  /** The caller's own `Authorization` header, forwarded so the indexer applies its organization scope. */
  authorization: string;
  /** Longest wait for one answer (default 30 s). */
  timeoutMs?: number;
}

function filterBody(filters: Filters | undefined): Filters | undefined {
  if (!filters) return undefined;
  const out: Filters = {};
  if (filters.sourceIds && filters.sourceIds.length > 0) out.sourceIds = filters.sourceIds;
  if (filters.pathGlob) out.pathGlob = filters.pathGlob;
  if (filters.languages && filters.languages.length > 0) out.languages = filters.languages;
  if (filters.kinds && filters.kinds.length > 0) out.kinds = filters.kinds;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A problem+json answer as one sentence: the detail, then each field's reason. */
function problemText(problem: Problem | undefined, status: number): string {
  const detail = problem?.detail ?? `The indexer answered ${status}.`;
  const fields = (problem?.errors ?? [])
    .map((e) => [e.field?.replace(/^(body|query)\./, ""), e.reason].filter(Boolean).join(": "))
    .filter((s) => s.length > 0);
  return fields.length > 0 ? `${detail} (${fields.join("; ")})` : detail;
}

/**
 * The indexer's HTTP API as a `ContextBackend`. Every call carries the
 * caller's credential: this adapter never widens what the caller may see.
 */
export function indexerHttpBackend(options: IndexerHttpOptions): ContextBackend {
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function call<T>(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    notFound?: string,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await options.fetch(`${indexerApi}${path}`, {
        method,
        headers: {
          authorization: options.authorization,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      if (timeout.aborted) {
        throw new BackendError(
          "unavailable",
          `The indexer did not answer within ${timeoutMs / 1000} s; try again, or narrow the request.`,
          { cause: err },
        );
      }
      const reason =
        (err as Error).cause instanceof Error
          ? ((err as Error).cause as Error).message
          : (err as Error).message;
      throw new BackendError(
        "unavailable",
        `The indexer is unreachable (${reason}); it may not be running. Try again shortly.`,
        { cause: err },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.ok) {
      if (parsed === undefined)
        throw new BackendError("failed", `The indexer answered ${response.status} without a JSON body.`);
      return parsed as T;
    }
    const message = problemText(parsed as Problem | undefined, response.status);
    switch (response.status) {
      case 400:
      case 422:
        throw new BackendError("invalid", message);
      case 401:
        throw new BackendError(
          "unauthorized",
          `${message} The credential was refused; use a valid ConHub API key or sign in again.`,
        );
      case 403:
        throw new BackendError("forbidden", message);
      case 404:
        throw new BackendError("not_found", notFound ?? message);
      case 502:
      case 503:
      case 504:
        throw new BackendError("unavailable", message);
      default:
        throw new BackendError("failed", message);
    }
  }

  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v));
    return search.toString();
  };

  return {
    description: "the ConHub indexer, as the caller (its organization's sources only)",
    async search(request) {
      const filters = filterBody(request.filters);
      return call<SearchAnswer>(
        "POST",
        "/search",
        { query: request.query, limit: request.limit, mode: request.mode, ...(filters ? { filters } : {}) },
        request.signal,
      );
    },
    async grep(request) {
      const filters = filterBody(request.filters);
      return call<GrepAnswer>(
        "POST",
        "/grep",
        {
          pattern: request.pattern,
          ignoreCase: request.ignoreCase,
          limit: request.limit,
          ...(filters ? { filters } : {}),
        },
        request.signal,
      );
    },
    async symbols(request) {
      const answer = await call<{ symbols: SymbolAnswer[] }>(
        "GET",
        `/symbols?${query({ name: request.name, match: request.match, kind: request.kind, sourceId: request.sourceId, limit: request.limit })}`,
        undefined,
        request.signal,
      );
      return answer.symbols;
    },
    async document(sourceId, path) {
      const answer = await call<{ document: DocumentAnswer }>(
        "GET",
        `/document?${query({ sourceId, path })}`,
        undefined,
        undefined,
        `No document ${JSON.stringify(path)} in source ${JSON.stringify(sourceId)} (or that source is not yours).`,
      );
      return answer.document;
    },
    async documents(sourceId, q) {
      return call<DocumentPage>(
        "GET",
        `/documents?${query({ sourceId, prefix: q.prefix || undefined, after: q.after || undefined, limit: q.limit })}`,
        undefined,
        undefined,
        `No source ${JSON.stringify(sourceId)} (or it is not yours); list_sources shows yours.`,
      );
    },
    async sources() {
      const answer = await call<{ sources: SourceAnswer[] }>("GET", "/sources");
      return answer.sources;
    },
  };
}
