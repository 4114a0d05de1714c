import type { RelationalStore } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import { type Kysely, type RawBuilder, sql } from "kysely";
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
 * Vectors in the indexer's PostgreSQL schema, with pgvector:
 *
 * - `vector_space` (one row): the model and dimensions the vectors belong to.
 * - `chunk_vectors (chunk_id bigint primary key, source_id text, embedding vector(N))`,
 *   created by `open` because N is known only then, with an HNSW index
 *   (`vector_cosine_ops`) and a b-tree on `source_id`. No foreign key to the
 *   keyword tables: the caller resolves every hit through its chunk rows.
 *
 * Every write commits on its own, so `flush` has nothing to do.
 *
 * Filtered search: an HNSW scan visits the graph's nearest candidates and
 * the `source_id` filter runs after, so a rare source could come back short.
 * Each query sets `hnsw.iterative_scan = relaxed_order` (pgvector 0.8: keep
 * scanning until `limit` rows pass the filter, up to `hnsw.max_scan_tuples`)
 * and, if a filtered query still returns fewer than `limit`, runs again
 * without the HNSW index: an exact scan of just those sources' rows, which
 * is cheap precisely when they are few.
 *
 * Above 2000 dimensions (pgvector's limit for `vector` in HNSW) the index is
 * built over `embedding::halfvec(N)` (up to 4000); above that, search is exact.
 */

export interface PgvectorStoreOptions {
  /** HNSW neighbours per node (default 16). */
  m?: number;
  /** Candidates while building (default 64, pgvector's default). */
  efConstruction?: number;
  /** Candidates while searching (default 64; at least `limit`, at most 1000). */
  efSearch?: number;
  /** Rows per INSERT (default 500). */
  batchSize?: number;
  logger?: Logger;
}

type Db = Kysely<unknown>;

const HNSW_VECTOR_MAX = 2000;
const HNSW_HALFVEC_MAX = 4000;

function vectorLiteral(vector: Float32Array): string {
  // Nine significant digits round-trip any float32 exactly.
  let out = "[";
  for (let i = 0; i < vector.length; i++) {
    if (i > 0) out += ",";
    out += Number(vector[i]!.toPrecision(9));
  }
  return `${out}]`;
}

function pgErrorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Enables pgvector in the database (once) and returns the schema holding its types and operators. */
async function ensureExtension(db: Db): Promise<string> {
  const installed = async () =>
    (
      await sql<{
        schema: string;
      }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'vector'`.execute(
        db,
      )
    ).rows[0]?.schema;
  const existing = await installed();
  if (existing) return existing;
  let failure: unknown;
  // `public` first, where every service finds it; the service's own schema if public is not writable.
  for (const statement of [
    sql`create extension if not exists vector schema public`,
    sql`create extension if not exists vector`,
  ]) {
    try {
      await statement.execute(db);
      failure = undefined;
      break;
    } catch (err) {
      failure = err;
      // Two processes creating it at once: the other one won.
      if ((err as { code?: string }).code === "23505") {
        failure = undefined;
        break;
      }
    }
  }
  const schema = await installed();
  if (schema) return schema;
  const version = await sql<{ v: string }>`select current_setting('server_version_num') as v`
    .execute(db)
    .then((r) => String(Math.floor(Number(r.rows[0]?.v ?? 0) / 10_000)))
    .catch(() => "<version>");
  throw new Error(
    `PostgreSQL cannot enable the pgvector extension (${pgErrorMessage(failure)}). ` +
      `Install pgvector on the database server (Debian/Ubuntu: the postgresql-${version}-pgvector package; Docker: the pgvector/pgvector image; ` +
      "otherwise build it, https://github.com/pgvector/pgvector#installation) and let a superuser run `create extension vector`, " +
      "or keep vectors elsewhere: CONHUB_VECTOR_STORE=usearch (an embedded index in the data dir) or CONHUB_VECTOR_STORE=qdrant with QDRANT_URL.",
    { cause: failure },
  );
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export async function openPgvectorStore(
  store: RelationalStore,
  options: PgvectorStoreOptions = {},
): Promise<VectorStore> {
  if (store.dialect !== "postgres") {
    throw new Error(
      `The pgvector store needs a PostgreSQL store, got ${store.dialect}: set DATABASE_URL, or CONHUB_VECTOR_STORE=usearch for the embedded index.`,
    );
  }
  const db = store.db as Db;
  const m = options.m ?? 16;
  const efConstruction = options.efConstruction ?? 64;
  const efSearch = options.efSearch ?? 64;
  const batchSize = options.batchSize ?? 500;
  const log = options.logger?.child({ vectorStore: "pgvector", service: store.service });

  const extSchema = await ensureExtension(db);
  const ext = (name: string) => sql.raw(`${quoteIdent(extSchema)}.${name}`);
  const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s;
  if (!schema)
    throw new Error(`PostgreSQL has no schema for the ${store.service} service on its search_path.`);
  const lockKey = `conhub:vectors:${schema}`;

  let space: VectorSpace | undefined;
  let closed = false;

  const current = (): VectorSpace => {
    if (closed) throw new Error("The pgvector vector store is closed.");
    if (!space) throw notOpenError("pgvector");
    return space;
  };

  /** The stored column as the indexed expression, and a query vector cast to match. */
  const distance = (dimensions: number, query: string): RawBuilder<number> => {
    const op = sql.raw(`operator(${quoteIdent(extSchema)}.<=>)`);
    if (dimensions > HNSW_VECTOR_MAX && dimensions <= HNSW_HALFVEC_MAX) {
      const half = ext(`halfvec(${dimensions})`);
      return sql<number>`(embedding::${half}) ${op} (${query}::${half})`;
    }
    return sql<number>`embedding ${op} (${query}::${ext(`vector(${dimensions})`)})`;
  };

  const createTable = async (trx: Db, dimensions: number) => {
    await sql`create table chunk_vectors (
      chunk_id bigint primary key,
      source_id text not null,
      embedding ${ext(`vector(${dimensions})`)} not null
    )`.execute(trx);
    await sql`create index chunk_vectors_source on chunk_vectors (source_id)`.execute(trx);
    const params = sql.raw(`with (m = ${m}, ef_construction = ${efConstruction})`);
    if (dimensions <= HNSW_VECTOR_MAX) {
      await sql`create index chunk_vectors_embedding on chunk_vectors using hnsw (embedding ${ext("vector_cosine_ops")}) ${params}`.execute(
        trx,
      );
    } else if (dimensions <= HNSW_HALFVEC_MAX) {
      await sql`create index chunk_vectors_embedding on chunk_vectors using hnsw ((embedding::${ext(`halfvec(${dimensions})`)}) ${ext("halfvec_cosine_ops")}) ${params}`.execute(
        trx,
      );
    } else {
      log?.warn({ dimensions }, "no HNSW index above 4000 dimensions: vector search scans every row");
    }
  };

  const search = async (
    vector: Float32Array,
    open: VectorSpace,
    limit: number,
    sourceIds: readonly string[] | undefined,
    exact: boolean,
  ): Promise<VectorHit[]> => {
    const literal = vectorLiteral(vector);
    const d = distance(open.dimensions, literal);
    const where = sourceIds ? sql`where source_id = any(${[...sourceIds]}::text[])` : sql``;
    return db.transaction().execute(async (trx) => {
      if (exact) {
        // No HNSW: a bitmap scan on source_id (or a sequential one) and a sort. Exact, and cheap
        // for the few rows of a rare source. Scans a server config may have turned off are allowed.
        await sql`select set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'on', true), set_config('enable_seqscan', 'on', true)`.execute(
          trx,
        );
      } else {
        const ef = Math.min(1000, Math.max(efSearch, limit));
        await sql`select set_config('hnsw.ef_search', ${String(ef)}, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`.execute(
          trx,
        );
      }
      const rows = await sql<{ chunk_id: string; distance: number }>`
        select chunk_id, ${d} as distance from chunk_vectors ${where} order by ${d} limit ${limit}`.execute(
        trx,
      );
      // relaxed_order may return rows slightly out of order: sort again.
      return rows.rows
        .map((r) => ({ chunkId: Number(r.chunk_id), score: 1 - Number(r.distance) }))
        .sort(byScore);
    });
  };

  return {
    kind: "pgvector",

    async open(next) {
      if (closed) throw new Error("The pgvector vector store is closed.");
      assertSpace(next);
      const reset = await db.transaction().execute(async (trx) => {
        // One process at a time decides and (re)creates the tables.
        await sql`select pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`.execute(trx);
        await sql`create table if not exists vector_space (
          id smallint primary key check (id = 1),
          model text not null,
          dimensions integer not null,
          updated_at timestamptz not null default now()
        )`.execute(trx);
        const stored = (
          await sql<{
            model: string;
            dimensions: number;
          }>`select model, dimensions from vector_space where id = 1`.execute(trx)
        ).rows[0];
        const table = (
          await sql<{
            t: string | null;
          }>`select to_regclass(${`${quoteIdent(schema)}.chunk_vectors`}) as t`.execute(trx)
        ).rows[0]?.t;
        if (stored && table && stored.model === next.model && stored.dimensions === next.dimensions)
          return false;
        if (stored && (stored.model !== next.model || stored.dimensions !== next.dimensions)) {
          log?.info(
            { from: describeSpace(stored), to: describeSpace(next) },
            "embedding model changed: dropping vectors",
          );
        }
        await sql`drop table if exists chunk_vectors`.execute(trx);
        await createTable(trx, next.dimensions);
        await sql`insert into vector_space (id, model, dimensions) values (1, ${next.model}, ${next.dimensions})
          on conflict (id) do update set model = excluded.model, dimensions = excluded.dimensions, updated_at = now()`.execute(
          trx,
        );
        return true;
      });
      space = { model: next.model, dimensions: next.dimensions };
      return { reset };
    },

    async upsert(records) {
      const open = current();
      const checked = checkedRecords(records, open);
      if (checked.length === 0) return;
      const type = ext(`vector(${open.dimensions})`);
      // All batches or none: a failed upsert leaves the previous vectors.
      await db.transaction().execute(async (trx) => {
        for (const batch of chunks(checked, batchSize)) {
          await sql`insert into chunk_vectors (chunk_id, source_id, embedding)
            select id, source, vec::${type}
            from unnest(${batch.map((r) => String(r.chunkId))}::bigint[], ${batch.map((r) => r.sourceId)}::text[], ${batch.map((r) => vectorLiteral(r.vector))}::text[]) as t(id, source, vec)
            on conflict (chunk_id) do update set source_id = excluded.source_id, embedding = excluded.embedding`.execute(
            trx,
          );
        }
      });
    },

    async delete(chunkIds) {
      current();
      const ids = [...new Set(chunkIds)];
      for (const id of ids) {
        if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`Invalid chunk id ${id}.`);
      }
      for (const batch of chunks(ids, 10_000)) {
        await sql`delete from chunk_vectors where chunk_id = any(${batch.map(String)}::bigint[])`.execute(db);
      }
    },

    async search(vector, options) {
      const open = current();
      assertVector(vector, open, "The query vector");
      const limit = checkedLimit(options.limit);
      if (limit === 0 || options.sourceIds?.length === 0) return [];
      const hits = await search(vector, open, limit, options.sourceIds, false);
      if (options.sourceIds && hits.length < limit)
        return search(vector, open, limit, options.sourceIds, true);
      return hits;
    },

    async flush() {
      current();
    },

    async count() {
      current();
      const row = (await sql<{ n: string }>`select count(*) as n from chunk_vectors`.execute(db)).rows[0];
      return Number(row?.n ?? 0);
    },

    async close() {
      // The relational store belongs to the caller, who closes it.
      closed = true;
    },
  };
}
