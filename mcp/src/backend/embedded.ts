import type { IndexerEngine } from "@conhub/indexer";
import { BackendError, type ContextBackend, type Filters } from "./port.js";

/** The organization of the CLI's own index (`conhub index`). */
export const localOrganization = "local";

/**
 * The embedded index of a data dir as a `ContextBackend`, for `conhub mcp`
 * when no ConHub server answers. It serves the `local` organization only
 * (what `conhub index` wrote), the same scoping the indexer's routes apply.
 */
export function embeddedBackend(engine: IndexerEngine, orgId = localOrganization): ContextBackend {
  const index = engine.index;
  const own = async (): Promise<string[]> => (await index.sources(orgId)).map((s) => s.id);
  const scoped = async (filters: Filters | undefined) => {
    const ids = await own();
    const wanted = filters?.sourceIds;
    return {
      ...(filters ?? {}),
      sourceIds: wanted && wanted.length > 0 ? ids.filter((id) => wanted.includes(id)) : ids,
    };
  };
  const ownSource = async (sourceId: string, what: string) => {
    if (!(await own()).includes(sourceId)) throw new BackendError("not_found", what);
  };

  return {
    description: "the local index of this machine's data dir (what `conhub index` stored)",
    async search(request) {
      try {
        const response = await engine.search({
          query: request.query,
          limit: request.limit,
          mode: request.mode,
          filters: await scoped(request.filters),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return {
          results: response.results,
          mode: response.mode,
          ...(response.notice ? { notice: response.notice } : {}),
        };
      } catch (err) {
        if ((err as Error).name === "VectorSearchUnavailableError") {
          throw new BackendError(
            "unavailable",
            `Vector search is unavailable: ${(err as Error).message} Use mode "keyword" or "hybrid".`,
          );
        }
        throw err;
      }
    },
    async grep(request) {
      try {
        const result = await index.grep({
          pattern: request.pattern,
          ignoreCase: request.ignoreCase,
          limit: request.limit,
          filters: await scoped(request.filters),
        });
        return { hits: result.hits, candidates: result.candidates };
      } catch (err) {
        if ((err as Error).name === "InvalidPatternError") {
          throw new BackendError(
            "invalid",
            `The pattern cannot be used. (pattern: ${(err as Error).message})`,
          );
        }
        throw err;
      }
    },
    async symbols(request) {
      const ids = await own();
      const sourceIds = request.sourceId ? ids.filter((id) => id === request.sourceId) : ids;
      return index.symbols({
        name: request.name,
        match: request.match,
        limit: request.limit,
        sourceIds,
        ...(request.kind ? { kinds: [request.kind] } : {}),
      });
    },
    async document(sourceId, path) {
      const missing = `No document ${JSON.stringify(path)} in source ${JSON.stringify(sourceId)} (or that source is not yours).`;
      await ownSource(sourceId, missing);
      const document = await index.document(sourceId, path);
      if (!document) throw new BackendError("not_found", missing);
      return document;
    },
    async documents(sourceId, query) {
      await ownSource(
        sourceId,
        `No source ${JSON.stringify(sourceId)} (or it is not yours); list_sources shows yours.`,
      );
      const documents = await index.documents(sourceId, {
        limit: query.limit,
        ...(query.prefix ? { prefix: query.prefix } : {}),
        ...(query.after ? { after: query.after } : {}),
      });
      const last = documents[documents.length - 1];
      return { documents, ...(documents.length === query.limit && last ? { next: last.path } : {}) };
    },
    async sources() {
      const out = [];
      for (const source of await index.sources(orgId)) {
        const stats = await index.stats(source.id);
        const vectors = await index.embeddingProgress([source.id]);
        out.push({
          id: source.id,
          root: source.root,
          documents: stats.documents,
          chunks: stats.chunks,
          symbols: stats.symbols,
          bytes: stats.bytes,
          vectors,
        });
      }
      return out;
    },
  };
}
