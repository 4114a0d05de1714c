import { createHash } from "node:crypto";
import type { Logger } from "@conhub/utils";
import { redactUrl } from "@conhub/utils";
import { QdrantClient } from "@qdrant/js-client-rest";
import type { VectorHit, VectorSpace, VectorStore } from "../ports/vector-store.js";
import {
  assertSpace,
  assertVector,
  byScore,
  checkedLimit,
  checkedRecords,
  chunks,
  describeSpace,
  notOpenError,
} from "./common.js";

/**
 * Vectors in Qdrant (`QDRANT_URL`): one collection per vector space, named
 * `<prefix>_<first 12 hex of sha256(model id)>_<dimensions>`, cosine
 * distance; point id = chunk id, payload `{ sourceId }` with a keyword
 * payload index so a `sourceIds` filter is applied inside the HNSW search
 * (Qdrant's filterable graph fills `limit` even for a rare source).
 *
 * `open` with another space creates that space's collection (`reset`) and
 * deletes the collections of other spaces under the same prefix: vectors of
 * an old model are never searched again. Give each deployment that shares
 * one Qdrant server its own `collectionPrefix`.
 *
 * Writes use `wait: true`: Qdrant has applied them (and written its WAL)
 * before the call returns, so `flush` has nothing to do.
 */

export interface QdrantVectorStoreOptions {
  /** `QDRANT_URL`, e.g. `http://localhost:6333`; without a port, 6333 (as Qdrant's clients do); a path is kept. */
  url: string;
  /** `QDRANT_API_KEY`, sent as the `api-key` header. */
  apiKey?: string;
  /** Collection name prefix (default `conhub`): letters, digits, `_` and `-`. */
  collectionPrefix?: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Points per upsert request (default 256). */
  batchSize?: number;
  /** HNSW candidates while searching (default 128, Qdrant's own default for this collection's ef_construct; at least `limit`). */
  efSearch?: number;
  logger?: Logger;
}

const NAME_HASH_LENGTH = 12;

/** The collection of a vector space. */
export function qdrantCollectionName(prefix: string, space: VectorSpace): string {
  const hash = createHash("sha256").update(space.model).digest("hex").slice(0, NAME_HASH_LENGTH);
  return `${prefix}_${hash}_${space.dimensions}`;
}

/** Nine significant digits round-trip a float32 and keep the JSON about half as long as a double's digits. */
function jsonVector(vector: Float32Array): number[] {
  return Array.from(vector, (x) => Number(x.toPrecision(9)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** What went wrong, from the client's error: Qdrant's own message when it answered, the network cause otherwise. */
function reasonOf(err: unknown): string {
  const e = err as {
    status?: number;
    data?: { status?: { error?: string } | string };
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (typeof e?.status === "number") {
    const status = e.data?.status;
    const detail = typeof status === "object" && status?.error ? status.error : e.message;
    return `HTTP ${e.status}${detail ? `: ${detail}` : ""}`;
  }
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(err);
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown })?.status;
  return typeof status === "number" ? status : undefined;
}

export async function openQdrantVectorStore(options: QdrantVectorStoreOptions): Promise<VectorStore> {
  const prefix = options.collectionPrefix ?? "conhub";
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(prefix)) {
    throw new TypeError(
      `Invalid Qdrant collection prefix ${JSON.stringify(prefix)}: use letters, digits, '_' and '-'.`,
    );
  }
  if (!/^https?:\/\/[^/]+/.test(options.url) || !URL.canParse(options.url)) {
    throw new TypeError(
      `QDRANT_URL must be an http:// or https:// URL, got ${JSON.stringify(redactUrl(options.url))}.`,
    );
  }
  const where = redactUrl(options.url);
  const batchSize = options.batchSize ?? 256;
  const efSearch = options.efSearch ?? 128;
  const log = options.logger?.child({ vectorStore: "qdrant", url: where });
  // The client ignores a URL's path; a server behind a proxy path (`https://host/qdrant`) needs it as `prefix`.
  const parsed = new URL(options.url);
  const pathPrefix = parsed.pathname.replace(/\/+$/, "");
  const client = new QdrantClient({
    url: `${parsed.protocol}//${parsed.host}`,
    ...(pathPrefix ? { prefix: pathPrefix } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    timeout: options.timeoutMs ?? 30_000,
    // `open` asks for the version itself and reports a failure as an error rather than a console warning.
    checkCompatibility: false,
  });
  const ownCollection = new RegExp(`^${escapeRegExp(prefix)}_[0-9a-f]{${NAME_HASH_LENGTH}}_\\d+$`);

  let space: VectorSpace | undefined;
  let collection: string | undefined;
  let closed = false;

  /** Runs a request; a failure becomes an error that says which server failed and what to check. */
  const call = async <T>(action: string, request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (err) {
      const status = statusOf(err);
      const hint =
        status === 401 || status === 403
          ? "check QDRANT_API_KEY"
          : status === undefined
            ? "check that Qdrant is running and QDRANT_URL points at it, or set CONHUB_VECTOR_STORE=usearch"
            : "check the Qdrant server's log";
      throw new Error(`Qdrant at ${where} (QDRANT_URL) failed to ${action}: ${reasonOf(err)}; ${hint}.`, {
        cause: err,
      });
    }
  };

  const current = (): { space: VectorSpace; collection: string } => {
    if (closed) throw new Error("The Qdrant vector store is closed.");
    if (!space || !collection) throw notOpenError("Qdrant");
    return { space, collection };
  };

  return {
    kind: "qdrant",

    async open(next) {
      if (closed) throw new Error("The Qdrant vector store is closed.");
      assertSpace(next);
      await call("answer (GET /)", () => client.versionInfo());
      const name = qdrantCollectionName(prefix, next);
      const { collections } = await call("list collections", () => client.getCollections());
      for (const other of collections) {
        if (other.name === name || !ownCollection.test(other.name)) continue;
        log?.info(
          { collection: other.name, to: describeSpace(next) },
          "embedding model changed: dropping the old collection",
        );
        await call(`delete collection ${other.name}`, () => client.deleteCollection(other.name));
      }
      const { exists } = await call(`check collection ${name}`, () => client.collectionExists(name));
      if (!exists) {
        await call(`create collection ${name}`, async () => {
          try {
            await client.createCollection(name, {
              vectors: { size: next.dimensions, distance: "Cosine" },
              hnsw_config: { m: 16, ef_construct: 128 },
            });
          } catch (err) {
            // 409: another process created it meanwhile; it is new (empty) either way.
            if (statusOf(err) !== 409) throw err;
          }
        });
      }
      // Idempotent; also repairs a collection created by a process that stopped before this step.
      await call(`index the sourceId payload of ${name}`, () =>
        client.createPayloadIndex(name, { field_name: "sourceId", field_schema: "keyword", wait: true }),
      );
      space = { model: next.model, dimensions: next.dimensions };
      collection = name;
      return { reset: !exists };
    },

    async upsert(records) {
      const open = current();
      const checked = checkedRecords(records, open.space);
      for (const batch of chunks(checked, batchSize)) {
        await call(`store ${batch.length} vectors in ${open.collection}`, () =>
          client.upsert(open.collection, {
            wait: true,
            points: batch.map((r) => ({
              id: r.chunkId,
              vector: jsonVector(r.vector),
              payload: { sourceId: r.sourceId },
            })),
          }),
        );
      }
    },

    async delete(chunkIds) {
      const open = current();
      const ids = [...new Set(chunkIds)];
      for (const id of ids) {
        if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`Invalid chunk id ${id}.`);
      }
      for (const batch of chunks(ids, 1000)) {
        await call(`delete ${batch.length} vectors from ${open.collection}`, () =>
          client.delete(open.collection, { wait: true, points: batch }),
        );
      }
    },

    async search(vector, options) {
      const open = current();
      assertVector(vector, open.space, "The query vector");
      const limit = checkedLimit(options.limit);
      if (limit === 0 || options.sourceIds?.length === 0) return [];
      const found = await call(`search ${open.collection}`, () =>
        client.query(open.collection, {
          query: jsonVector(vector),
          limit,
          with_payload: false,
          with_vector: false,
          params: { hnsw_ef: Math.max(efSearch, limit) },
          ...(options.sourceIds
            ? { filter: { must: [{ key: "sourceId", match: { any: [...options.sourceIds] } }] } }
            : {}),
        }),
      );
      const hits: VectorHit[] = found.points.map((p) => ({ chunkId: Number(p.id), score: p.score }));
      return hits.sort(byScore);
    },

    async flush() {
      current();
    },

    async count() {
      const open = current();
      const { count } = await call(`count ${open.collection}`, () =>
        client.count(open.collection, { exact: true }),
      );
      return count;
    },

    async close() {
      closed = true;
    },
  };
}
