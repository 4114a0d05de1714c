import {
  type AuthEnv,
  type AuthVerifier,
  authenticate,
  callerOrganization,
  jsonBody,
  queryParams,
  requireScope,
} from "@conhub/middleware";
import type { JobQueue } from "@conhub/storage";
import { errors } from "@conhub/utils";
import { Hono } from "hono";
import { z } from "zod";
import { ChunkKind, Language, SymbolKind } from "../document.js";
import type { IndexerEngine } from "../engine/engine.js";
import { INDEX_QUEUE, IndexJobFields, IndexJobPayload } from "../engine/ingest-jobs.js";
import { VectorSearchUnavailableError } from "../engine/search.js";
import { compileGrepPattern } from "../keyword/regex.js";
import type { SearchFilters } from "../ports/keyword-index.js";

/**
 * The indexer's HTTP API under `/indexer/api` (gateway `/indexer/*`). Every
 * route needs a ConHub API key or access token and answers only from the
 * caller's organization: the organization's source ids are looked up first
 * and every query is limited to them (a filter naming another
 * organization's source simply matches nothing).
 */

const Filters = z
  .strictObject({
    sourceIds: z.array(z.string().min(1).max(200)).max(100).optional(),
    pathGlob: z.string().min(1).max(500).optional(),
    languages: z.array(Language).max(50).optional(),
    kinds: z.array(ChunkKind).max(20).optional(),
  })
  .optional();

const SearchBody = z.strictObject({
  query: z.string().trim().min(1, "must not be empty").max(1000, "must be at most 1000 characters"),
  limit: z.number().int().min(1).max(100).default(10),
  mode: z.enum(["keyword", "vector", "hybrid"]).default("hybrid"),
  filters: Filters,
});

const GrepBody = z.strictObject({
  pattern: z.string().min(1, "must not be empty").max(500, "must be at most 500 characters"),
  ignoreCase: z.boolean().default(false),
  limit: z.number().int().min(1).max(1000).default(100),
  filters: Filters,
});

const SymbolsQuery = z.strictObject({
  name: z.string().trim().min(1, "must not be empty").max(200),
  match: z.enum(["exact", "prefix"]).default("exact"),
  kind: SymbolKind.optional(),
  sourceId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

const DocumentQuery = z.strictObject({
  sourceId: z.string().min(1).max(200),
  path: z.string().min(1).max(4096),
});

const DocumentsQuery = z.strictObject({
  sourceId: z.string().min(1).max(200),
  prefix: z.string().max(4096).optional(),
  after: z.string().max(4096).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const IndexBody = IndexJobFields.omit({ orgId: true });

export interface IndexerRoutesOptions {
  engine: IndexerEngine;
  queue: JobQueue;
  verifier: AuthVerifier;
}

/** Results as the CLI's `--json` prints them, plus where each came from. */
function publicResult(hit: Awaited<ReturnType<IndexerEngine["search"]>>["results"][number]) {
  return {
    path: hit.path,
    startLine: hit.startLine,
    endLine: hit.endLine,
    symbol: hit.symbol,
    score: hit.score,
    snippet: hit.snippet,
    snippetLine: hit.snippetLine,
    highlights: hit.highlights,
    sourceId: hit.sourceId,
    language: hit.language,
    kind: hit.kind,
    retrievers: hit.retrievers,
  };
}

export function indexerRoutes(options: IndexerRoutesOptions): Hono<AuthEnv> {
  const { engine, queue } = options;
  const index = engine.index;
  const app = new Hono<AuthEnv>();
  app.use("*", authenticate({ verifier: options.verifier }));

  /** The caller's source ids, intersected with the ones a filter asks for. */
  const scope = async (orgId: string, wanted?: readonly string[]): Promise<string[]> => {
    const own = (await index.sources(orgId)).map((s) => s.id);
    return wanted ? own.filter((id) => wanted.includes(id)) : own;
  };
  const scopedFilters = async (orgId: string, filters: z.output<typeof Filters>): Promise<SearchFilters> => ({
    ...(filters ?? {}),
    sourceIds: await scope(orgId, filters?.sourceIds),
  });
  const ownSource = async (orgId: string, sourceId: string) => {
    if ((await scope(orgId, [sourceId])).length === 0) throw errors.notFound(`Source ${sourceId}`);
  };

  app.post("/search", requireScope("search:read"), jsonBody(SearchBody), async (c) => {
    const body = c.req.valid("json");
    const filters = await scopedFilters(callerOrganization(c), body.filters);
    try {
      const response = await engine.search({
        query: body.query,
        limit: body.limit,
        mode: body.mode,
        filters,
        signal: c.req.raw.signal,
      });
      return c.json({
        results: response.results.map(publicResult),
        mode: response.mode,
        ...(response.notice ? { notice: response.notice } : {}),
      });
    } catch (err) {
      if (err instanceof VectorSearchUnavailableError) {
        throw errors.unavailable(
          `Vector search is unavailable: ${err.message} Use mode "keyword" or "hybrid".`,
        );
      }
      throw err;
    }
  });

  app.post("/grep", requireScope("search:read"), jsonBody(GrepBody), async (c) => {
    const body = c.req.valid("json");
    const compiled = compileGrepPattern(body.pattern, body.ignoreCase);
    if (!compiled.ok) {
      throw errors.unprocessable("The pattern cannot be used.", [
        { field: "body.pattern", reason: compiled.reason },
      ]);
    }
    const filters = await scopedFilters(callerOrganization(c), body.filters);
    const result = await index.grep({
      pattern: body.pattern,
      ignoreCase: body.ignoreCase,
      limit: body.limit,
      filters,
    });
    return c.json(result);
  });

  app.get("/symbols", requireScope("search:read"), queryParams(SymbolsQuery), async (c) => {
    const q = c.req.valid("query");
    const sourceIds = await scope(callerOrganization(c), q.sourceId ? [q.sourceId] : undefined);
    const symbols = await index.symbols({
      name: q.name,
      match: q.match,
      limit: q.limit,
      sourceIds,
      ...(q.kind ? { kinds: [q.kind] } : {}),
    });
    return c.json({ symbols });
  });

  app.get("/document", requireScope("search:read"), queryParams(DocumentQuery), async (c) => {
    const q = c.req.valid("query");
    await ownSource(callerOrganization(c), q.sourceId);
    const document = await index.document(q.sourceId, q.path);
    if (!document) throw errors.notFound(`Document ${q.path}`);
    return c.json({ document });
  });

  app.get("/documents", requireScope("search:read"), queryParams(DocumentsQuery), async (c) => {
    const q = c.req.valid("query");
    await ownSource(callerOrganization(c), q.sourceId);
    const documents = await index.documents(q.sourceId, {
      limit: q.limit,
      ...(q.prefix ? { prefix: q.prefix } : {}),
      ...(q.after ? { after: q.after } : {}),
    });
    return c.json({
      documents,
      ...(documents.length === q.limit ? { next: documents[documents.length - 1]!.path } : {}),
    });
  });

  app.get("/sources", requireScope("search:read"), async (c) => {
    const sources = await index.sources(callerOrganization(c));
    const withStats = [];
    for (const source of sources) {
      const stats = await index.stats(source.id);
      const vectors = await index.embeddingProgress([source.id]);
      withStats.push({ id: source.id, root: source.root, ...stats, vectors });
    }
    return c.json({ sources: withStats });
  });

  app.get("/stats", requireScope("search:read"), async (c) => {
    const sourceIds = await scope(callerOrganization(c));
    const totals = {
      sources: sourceIds.length,
      documents: 0,
      chunks: 0,
      symbols: 0,
      bytes: 0,
      skipped: {} as Record<string, number>,
      redactions: {} as Record<string, number>,
    };
    for (const id of sourceIds) {
      const s = await index.stats(id);
      totals.documents += s.documents;
      totals.chunks += s.chunks;
      totals.symbols += s.symbols;
      totals.bytes += s.bytes;
      for (const [k, n] of Object.entries(s.skipped)) totals.skipped[k] = (totals.skipped[k] ?? 0) + (n ?? 0);
      for (const [k, n] of Object.entries(s.redactions))
        totals.redactions[k] = (totals.redactions[k] ?? 0) + n;
    }
    const vectors = await engine.vectorStatus(sourceIds);
    return c.json({ ...totals, vectors });
  });

  app.post("/index", requireScope("sources:write"), jsonBody(IndexBody), async (c) => {
    const body = c.req.valid("json");
    const orgId = callerOrganization(c);
    const existing = (await index.sources()).find((s) => s.id === body.sourceId);
    // Another organization's source id is "not found" here, as everywhere.
    if (existing && existing.orgId !== orgId) throw errors.notFound(`Source ${body.sourceId}`);
    const parsed = IndexJobPayload.safeParse({ ...body, orgId });
    if (!parsed.success) {
      throw errors.unprocessable(
        "The index request is not valid.",
        parsed.error.issues.map((i) => ({
          field: ["body", ...i.path.map(String)].join("."),
          reason: i.message,
        })),
      );
    }
    const jobId = await queue.enqueue(INDEX_QUEUE, parsed.data, { maxAttempts: 5 });
    return c.json({ jobId, status: `/indexer/api/jobs/${jobId}` }, 202);
  });

  app.get("/jobs/:id", requireScope("search:read"), async (c) => {
    const job = await queue.get<{ orgId?: string }>(c.req.param("id"));
    if (!job || job.queue !== INDEX_QUEUE || job.payload.orgId !== callerOrganization(c)) {
      throw errors.notFound(`Job ${c.req.param("id")}`);
    }
    const detail = (job.progressDetail ?? null) as { error?: string } | null;
    const refused = job.state === "completed" && typeof detail?.error === "string";
    return c.json({
      id: job.id,
      state: refused ? "failed" : job.state,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      progress: job.progress,
      detail,
      error: refused ? detail?.error : (job.lastError ?? null),
      createdAt: job.createdAt.toISOString(),
    });
  });

  return app;
}
