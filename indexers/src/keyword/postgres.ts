import type { RelationalStore } from "@conhub/storage";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { SkipReason } from "../classify.js";
import type { Language, SymbolKind } from "../document.js";
import type {
  DocumentListQuery,
  DocumentSummary,
  EmbeddingProgress,
  GrepQuery,
  GrepResult,
  IndexStats,
  KeywordIndex,
  KeywordQuery,
  PendingChunk,
  SearchFilters,
  SearchHit,
  SkippedInput,
  SourceInfo,
  StoredDocument,
  StoredFileState,
  SymbolHit,
  SymbolQuery,
  UpsertInput,
  UpsertOutcome,
} from "../ports/keyword-index.js";
import { globToRegExp } from "../safety/glob.js";
import { GrepCollector } from "./grep-scan.js";
import { LOCAL_ORG_ID } from "./migrations.js";
import { globBounds } from "./path-glob.js";
import { executePlan, exprPhrases, type PlanCandidates, type PlanExecutor, type PlanExpr } from "./plan.js";
import { bm25PageQuery, bm25RankQuery, queryPhrases } from "./postgres-bm25.js";
import { ensurePostgresKeywordTables } from "./postgres-schema.js";
import { BM25_WEIGHTS, chunkStats, columnStats, pathColumns, postingKey } from "./postgres-terms.js";
import { requiredLiterals, searchTerms } from "./query.js";
import { compileGrepPattern, InvalidPatternError } from "./regex.js";
import { type HitRow, hitFromRow } from "./sqlite.js";

/**
 * The keyword index on PostgreSQL, answering every query as the SQLite
 * adapter does (`keyword/sqlite.ts`; same results on the same corpus,
 * `equivalence.test.ts`):
 *
 * - words: BM25 over `keyword_postings`, terms produced by the same
 *   tokenizer and stemmer as SQLite's FTS5 (`porter unicode61`, in
 *   TypeScript: `unicode61.ts`, `porter.ts`) over the same four columns
 *   with the same weights, scored by FTS5's own formula
 *   (`postgres-bm25.ts`);
 * - grep: a `pg_trgm` GIN index on `chunks.text` picks the chunks holding
 *   the literals a pattern requires (`LIKE`/`ILIKE`), then the same RE2 pass
 *   as SQLite (`grep-scan.ts`);
 * - symbols, stats, vectors: the shared tables, compared in code-point order
 *   (`collate "C"`) as SQLite compares.
 *
 * Everything a document changes (its rows, postings, the totals) changes in
 * one transaction. Tables beyond the shared migrations: `postgres-schema.ts`.
 */

type Db = Kysely<unknown>;

/** Rows per statement for id lists (PostgreSQL takes up to 65535 parameters). */
const ID_BATCH = 5000;

/** Opens the keyword index on the indexer's PostgreSQL store (its migrations must be applied). */
export async function openPostgresKeywordIndex(store: RelationalStore): Promise<KeywordIndex> {
  if (store.dialect !== "postgres") {
    throw new Error(
      `The PostgreSQL keyword index needs a PostgreSQL store, got ${store.dialect}; use openSqliteKeywordIndex (or openKeywordIndex, which picks by dialect).`,
    );
  }
  const db = store.db as Db;
  await ensurePostgresKeywordTables(db);
  return new PostgresKeywordIndex(db);
}

function now(): string {
  return new Date().toISOString();
}

/** PostgreSQL text cannot hold NUL: stored as U+FFFD (SQLite keeps it; only a grep for NUL tells them apart). */
function pgText(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\uFFFD") : text;
}

function batches<T>(items: readonly T[], size = ID_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Chunks, tokens and each term's chunks added (or removed, negative) by a write transaction, applied to
 * `keyword_df` and `keyword_totals` before it commits.
 */
interface TotalsDelta {
  chunks: number;
  tokens: number;
  /** Change of each term's document frequency, by posting key. */
  df: Map<string, number>;
}

function emptyDelta(): TotalsDelta {
  return { chunks: 0, tokens: 0, df: new Map() };
}

class PostgresKeywordIndex implements KeywordIndex {
  /** `delta`: set when `db` is a transaction of `batch`; writes join it and add to its totals. */
  constructor(
    private readonly db: Db,
    private readonly delta?: TotalsDelta,
  ) {}

  /**
   * Runs a read of several statements on one snapshot: a read-only `repeatable read` transaction
   * (which never waits on writers and cannot fail to serialize). Without it each statement sees
   * what was committed before it, so a write between a search's candidate and scoring statements
   * could leave out a document that matched before and after it. Inside a batch: the batch's
   * transaction.
   */
  private reading<T>(fn: (index: PostgresKeywordIndex) => Promise<T>): Promise<T> {
    if (this.delta) return fn(this);
    return (
      this.db
        .transaction()
        .setIsolationLevel("repeatable read")
        .setAccessMode("read only")
        // Reads only: the totals delta that marks the instance as inside a transaction stays zero.
        .execute((trx) => fn(new PostgresKeywordIndex(trx, emptyDelta())))
    );
  }

  /**
   * Runs `fn` in a transaction (or the batch's) and applies the change of
   * chunk and token counts last, so the one totals row is locked only while
   * the transaction commits.
   */
  private async write<T>(fn: (db: Db, delta: TotalsDelta) => Promise<T>): Promise<T> {
    if (this.delta) return fn(this.db, this.delta);
    return this.db.transaction().execute(async (trx) => {
      const delta = emptyDelta();
      const result = await fn(trx, delta);
      await applyTotals(trx, delta);
      return result;
    });
  }

  batch<T>(fn: (index: KeywordIndex) => Promise<T>): Promise<T> {
    if (this.delta) return fn(this);
    return this.db.transaction().execute(async (trx) => {
      const delta = emptyDelta();
      const result = await fn(new PostgresKeywordIndex(trx, delta));
      await applyTotals(trx, delta);
      return result;
    });
  }

  async upsertSource(source: SourceInfo): Promise<void> {
    const at = now();
    const orgId = source.orgId ?? LOCAL_ORG_ID;
    await sql`insert into sources (id, root, org_id, created_at, updated_at) values (${source.id}, ${source.root}, ${orgId}, ${at}, ${at})
      on conflict (id) do update set root = excluded.root, org_id = excluded.org_id, updated_at = excluded.updated_at`.execute(
      this.db,
    );
  }

  async sources(orgId?: string): Promise<Required<SourceInfo>[]> {
    const where = orgId === undefined ? sql`` : sql`where org_id = ${orgId}`;
    const { rows } = await sql<Required<SourceInfo>>`
      select id, root, org_id as "orgId" from sources ${where} order by id collate "C"`.execute(this.db);
    return rows;
  }

  async deleteSource(sourceId: string): Promise<boolean> {
    return this.write(async (trx, delta) => {
      await deleteDocuments(trx, sql`d.source_id = ${sourceId}`, delta);
      await sql`delete from skipped_files where source_id = ${sourceId}`.execute(trx);
      const removed = await sql`delete from sources where id = ${sourceId}`.execute(trx);
      return Number(removed.numAffectedRows ?? 0) > 0;
    });
  }

  async fileStates(sourceId: string): Promise<Map<string, StoredFileState>> {
    const states = new Map<string, StoredFileState>();
    const docs = await sql<{ path: string; content_hash: string; bytes: number; mtime_ms: string | null }>`
      select path, content_hash, bytes, mtime_ms from documents where source_id = ${sourceId}`.execute(
      this.db,
    );
    for (const r of docs.rows) {
      states.set(r.path, {
        path: r.path,
        state: "indexed",
        contentHash: r.content_hash,
        bytes: r.bytes,
        mtimeMs: r.mtime_ms === null ? null : Number(r.mtime_ms),
        reason: null,
      });
    }
    const skipped = await sql<{ path: string; reason: SkipReason; bytes: number; mtime_ms: string | null }>`
      select path, reason, bytes, mtime_ms from skipped_files where source_id = ${sourceId}`.execute(this.db);
    for (const r of skipped.rows) {
      states.set(r.path, {
        path: r.path,
        state: "skipped",
        contentHash: null,
        bytes: r.bytes,
        mtimeMs: r.mtime_ms === null ? null : Number(r.mtime_ms),
        reason: r.reason,
      });
    }
    return states;
  }

  async upsert(input: UpsertInput): Promise<UpsertOutcome> {
    const { document, chunks, symbols } = input;
    const mtime = input.mtimeMs === undefined ? null : Math.floor(input.mtimeMs);
    return this.write(async (trx, delta) => {
      // One writer per document at a time: two could otherwise both insert it. (Locked before the
      // read, in its own statement: a statement reads the rows committed when it started.)
      await lockDocument(trx, document.sourceId, document.path);
      const existing = await sql<{ id: number; content_hash: string }>`
        select id, content_hash from documents where source_id = ${document.sourceId} and path = ${document.path}`.execute(
        trx,
      );
      const old = existing.rows[0];
      if (old && old.content_hash === document.contentHash) {
        if (mtime !== null)
          await sql`update documents set mtime_ms = ${mtime} where id = ${old.id}`.execute(trx);
        return "unchanged" as const;
      }
      if (old) await deleteDocuments(trx, sql`d.id = ${old.id}`, delta);
      const inserted = await sql<{ id: number; chunk_ids: string[] | null }>`
        with skipped as (delete from skipped_files where source_id = ${document.sourceId} and path = ${document.path})
        insert into documents (source_id, path, content_hash, language, media_type, bytes, mtime_ms, chunk_count, indexed_at)
        values (${pgText(document.sourceId)}, ${pgText(document.path)}, ${document.contentHash}, ${document.language},
                ${document.mediaType}, ${input.bytes}, ${mtime}, ${chunks.length}, ${now()})
        returning id, (select array_agg(nextval('chunk_ids')) from generate_series(1, ${chunks.length})) as chunk_ids`.execute(
        trx,
      );
      const documentId = inserted.rows[0]!.id;
      // Ids in the order of the chunks, as SQLite's counter gives them.
      const ids = (inserted.rows[0]!.chunk_ids ?? []).map(Number).sort((a, b) => a - b);

      const { name, dir } = pathColumns(document.path);
      const nameStats = columnStats(name, BM25_WEIGHTS[0]);
      const dirStats = columnStats(dir, BM25_WEIGHTS[1]);
      const postings = {
        term: [] as string[],
        chunk: [] as number[],
        freq: [] as number[],
        doclen: [] as number[],
      };
      const lengths: number[] = [];
      chunks.forEach((chunk, i) => {
        const stats = chunkStats(nameStats, dirStats, chunk.symbolPath, chunk.text);
        lengths.push(stats.length);
        for (const [term, freq] of stats.terms) {
          const key = postingKey(term);
          delta.df.set(key, (delta.df.get(key) ?? 0) + 1);
          postings.term.push(key);
          postings.chunk.push(ids[i]!);
          postings.freq.push(freq);
          postings.doclen.push(stats.length);
        }
        delta.chunks++;
        delta.tokens += stats.length;
      });

      // Chunks, postings, symbols and redactions in one statement.
      const redactions = Object.entries(input.redactions).filter(([, n]) => n > 0);
      await sql`
        with c as (
          insert into chunks (id, document_id, ordinal, start_line, end_line, start_byte, end_byte, kind, symbol_path, language, token_estimate, text, fts_length)
          select id, ${documentId}, ordinal, start_line, end_line, start_byte, end_byte, kind, symbol_path, language, token_estimate, text, fts_length
          from unnest(${ids}::int[], ${chunks.map((c) => c.ordinal)}::int[], ${chunks.map((c) => c.startLine)}::int[],
                      ${chunks.map((c) => c.endLine)}::int[], ${chunks.map((c) => c.startByte)}::int[], ${chunks.map((c) => c.endByte)}::int[],
                      ${chunks.map((c) => c.kind)}::text[], ${chunks.map((c) => pgText(c.symbolPath))}::text[],
                      ${chunks.map((c) => c.language)}::text[], ${chunks.map((c) => c.tokenEstimate)}::int[],
                      ${chunks.map((c) => pgText(c.text))}::text[], ${lengths}::int[])
            as u(id, ordinal, start_line, end_line, start_byte, end_byte, kind, symbol_path, language, token_estimate, text, fts_length)
        ),
        p as (
          insert into keyword_postings (term, chunk_id, freq, doclen)
          select * from unnest(${postings.term}::text[], ${postings.chunk}::int[], ${postings.freq}::int[], ${postings.doclen}::int[])
        ),
        s as (
          insert into symbols (document_id, name, name_lower, kind, symbol_path, start_line, end_line, container)
          select ${documentId}, * from unnest(${symbols.map((s) => pgText(s.name))}::text[],
            ${symbols.map((s) => pgText(s.name.toLowerCase()))}::text[], ${symbols.map((s) => s.kind)}::text[],
            ${symbols.map((s) => pgText(s.path))}::text[], ${symbols.map((s) => s.startLine)}::int[],
            ${symbols.map((s) => s.endLine)}::int[], ${symbols.map((s) => (s.container === null ? null : pgText(s.container)))}::text[])
        )
        insert into redactions (document_id, rule, count)
        select ${documentId}, * from unnest(${redactions.map(([rule]) => rule)}::text[], ${redactions.map(([, n]) => n)}::int[])`.execute(
        trx,
      );
      return "indexed" as const;
    });
  }

  async recordSkipped(input: SkippedInput): Promise<void> {
    const mtime = input.mtimeMs === undefined ? null : Math.floor(input.mtimeMs);
    await this.write(async (trx, delta) => {
      await lockDocument(trx, input.sourceId, input.path);
      await deleteDocuments(trx, sql`d.source_id = ${input.sourceId} and d.path = ${input.path}`, delta);
      await sql`insert into skipped_files (source_id, path, reason, detail, bytes, mtime_ms, recorded_at)
        values (${pgText(input.sourceId)}, ${pgText(input.path)}, ${input.reason}, ${input.detail === undefined ? null : pgText(input.detail)},
                ${input.bytes}, ${mtime}, ${now()})
        on conflict (source_id, path) do update set reason = excluded.reason, detail = excluded.detail,
          bytes = excluded.bytes, mtime_ms = excluded.mtime_ms, recorded_at = excluded.recorded_at`.execute(
        trx,
      );
    });
  }

  async touch(sourceId: string, path: string, mtimeMs: number): Promise<void> {
    await sql`update documents set mtime_ms = ${Math.floor(mtimeMs)} where source_id = ${sourceId} and path = ${path}`.execute(
      this.db,
    );
  }

  async delete(sourceId: string, path: string): Promise<boolean> {
    return this.write(async (trx, delta) => {
      const removed = await deleteDocuments(trx, sql`d.source_id = ${sourceId} and d.path = ${path}`, delta);
      const skipped =
        await sql`delete from skipped_files where source_id = ${sourceId} and path = ${path}`.execute(trx);
      return removed > 0 || Number(skipped.numAffectedRows ?? 0) > 0;
    });
  }

  document(sourceId: string, path: string): Promise<StoredDocument | undefined> {
    return this.reading((index) => index.documentNow(sourceId, path));
  }

  private async documentNow(sourceId: string, path: string): Promise<StoredDocument | undefined> {
    const { rows } = await sql<{
      id: number;
      language: Language;
      media_type: string;
      content_hash: string;
      bytes: number;
      indexed_at: string;
    }>`select id, language, media_type, content_hash, bytes, indexed_at from documents
       where source_id = ${sourceId} and path = ${path}`.execute(this.db);
    const doc = rows[0];
    if (!doc) return undefined;
    const chunks = await sql<StoredDocument["chunks"][number]>`
      select id as "chunkId", ordinal, start_line as "startLine", end_line as "endLine", kind, symbol_path as symbol, text
      from chunks where document_id = ${doc.id} order by ordinal`.execute(this.db);
    return {
      sourceId,
      path,
      language: doc.language,
      mediaType: doc.media_type,
      contentHash: doc.content_hash,
      bytes: Number(doc.bytes),
      indexedAt: doc.indexed_at,
      chunks: chunks.rows.map((c) => ({ ...c, chunkId: Number(c.chunkId) })),
    };
  }

  async documents(sourceId: string, query: DocumentListQuery = {}): Promise<DocumentSummary[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 100, 1000));
    // Paths compare in code-point order ("C"), as SQLite compares them.
    const prefix = query.prefix
      ? sql`and path collate "C" >= ${query.prefix} and path collate "C" < ${`${query.prefix}\u{10ffff}`}`
      : sql``;
    const after = query.after !== undefined ? sql`and path collate "C" > ${query.after}` : sql``;
    const { rows } = await sql<DocumentSummary>`
      select path, language, bytes, chunk_count as chunks, indexed_at as "indexedAt" from documents
      where source_id = ${sourceId} ${prefix} ${after} order by path collate "C" limit ${limit}`.execute(
      this.db,
    );
    return rows.map((r) => ({ ...r, bytes: Number(r.bytes), chunks: Number(r.chunks) }));
  }

  search(query: KeywordQuery): Promise<SearchHit[]> {
    return this.reading((index) => index.searchNow(query));
  }

  private async searchNow(query: KeywordQuery): Promise<SearchHit[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 10, 1000));
    const terms = searchTerms(query.query);
    if (terms.length === 0) return [];
    const phrases = queryPhrases(terms);
    if (phrases.length === 0) return [];
    // The same plan as the SQLite adapter's (`plan.ts`): the same candidates, then BM25 of every term over them.
    const chosen = await executePlan(query.query, new PostgresPlanExecutor(this.db, query.filters), {
      limit,
    });
    if (chosen.ids.length === 0) return [];
    const { rows } = await bm25PageQuery({
      phrases,
      limit,
      offset: 0,
      chunkIds: chosen.ids,
    }).execute(this.db);
    return (rows as HitRow[]).map((row) => hitFromRow(row, terms));
  }

  grep(query: GrepQuery): Promise<GrepResult> {
    return this.reading((index) => index.grepNow(query));
  }

  private async grepNow(query: GrepQuery): Promise<GrepResult> {
    const limit = Math.max(1, Math.min(query.limit ?? 100, 10_000));
    const compiled = compileGrepPattern(query.pattern, query.ignoreCase);
    if (!compiled.ok) throw new InvalidPatternError(compiled.reason);
    const literals = requiredLiterals(query.pattern);
    const pathFilter = query.filters?.pathGlob ? globToRegExp(query.filters.pathGlob) : undefined;
    const collector = new GrepCollector(compiled.matcher, limit, pathFilter);
    const prefilter = literals ? likePrefilter(literals, query.ignoreCase ?? false) : undefined;
    const where = filterSql(query.filters) ?? sql``;
    const page = 500;
    let lastId = 0;
    for (;;) {
      const { rows } = await sql<HitRow>`
        select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, 0 as score
        from chunks c
        join documents d on d.id = c.document_id
        where c.id > ${lastId} ${prefilter ? sql`and (${prefilter})` : sql``} ${where}
        order by c.id limit ${page}`.execute(this.db);
      for (const row of rows) {
        lastId = row.id;
        if (!collector.add(row)) break;
      }
      if (collector.full || rows.length < page) break;
    }
    return collector.result(literals);
  }

  async symbols(query: SymbolQuery): Promise<SymbolHit[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, 1000));
    const name = query.name.toLowerCase();
    const nameCondition =
      query.match === "prefix"
        ? sql`s.name_lower collate "C" >= ${name} and s.name_lower collate "C" < ${`${name}\u{10ffff}`}`
        : sql`s.name_lower = ${name}`;
    const kinds = query.kinds?.length ? sql`and s.kind in (${sql.join(query.kinds)})` : sql``;
    const sources = !query.sourceIds
      ? sql``
      : query.sourceIds.length > 0
        ? sql`and d.source_id in (${sql.join(query.sourceIds)})`
        : sql`and false`;
    const { rows } = await sql<{
      source_id: string;
      file: string;
      language: Language;
      name: string;
      kind: SymbolKind;
      symbol_path: string;
      start_line: number;
      end_line: number;
      container: string | null;
    }>`
      select d.source_id, d.path as file, d.language, s.name, s.kind, s.symbol_path, s.start_line, s.end_line, s.container
      from symbols s join documents d on d.id = s.document_id
      where ${nameCondition} ${kinds} ${sources}
      order by case when s.name = ${query.name} then 0 else 1 end, length(s.name), d.path collate "C", s.start_line
      limit ${limit}`.execute(this.db);
    return rows.map((r) => ({
      sourceId: r.source_id,
      file: r.file,
      language: r.language,
      name: r.name,
      kind: r.kind,
      path: r.symbol_path,
      startLine: r.start_line,
      endLine: r.end_line,
      container: r.container,
    }));
  }

  async stats(sourceId?: string): Promise<IndexStats> {
    const docWhere = sourceId === undefined ? sql`` : sql`where d.source_id = ${sourceId}`;
    const skipWhere = sourceId === undefined ? sql`` : sql`where source_id = ${sourceId}`;
    const totals = await sql<{
      documents: number;
      bytes: number;
      chunks: number;
      symbols: number;
      sources: number;
    }>`
      select count(*)::int as documents, coalesce(sum(d.bytes), 0)::float8 as bytes,
             coalesce(sum(d.chunk_count), 0)::int as chunks,
             (select count(*) from symbols s join documents d on d.id = s.document_id ${docWhere})::int as symbols,
             (select count(*) from sources)::int as sources
      from documents d ${docWhere}`.execute(this.db);
    const skipped = await sql<{ reason: SkipReason; n: number }>`
      select reason, count(*)::int as n from skipped_files ${skipWhere} group by reason order by reason collate "C"`.execute(
      this.db,
    );
    const redactions = await sql<{ rule: string; n: number }>`
      select r.rule, sum(r.count)::int as n from redactions r join documents d on d.id = r.document_id ${docWhere}
      group by r.rule order by r.rule collate "C"`.execute(this.db);
    const t = totals.rows[0]!;
    return {
      sources: sourceId === undefined ? t.sources : 1,
      documents: t.documents,
      chunks: t.chunks,
      symbols: t.symbols,
      bytes: t.bytes,
      skipped: Object.fromEntries(skipped.rows.map((r) => [r.reason, r.n])),
      redactions: Object.fromEntries(redactions.rows.map((r) => [r.rule, r.n])),
    };
  }

  async embeddingModel(): Promise<string | undefined> {
    const { rows } = await sql<{
      value: string;
    }>`select value from index_meta where key = 'embedding_model'`.execute(this.db);
    return rows[0]?.value;
  }

  async setEmbeddingModel(model: string, options: { reset?: boolean } = {}): Promise<void> {
    await this.write(async (trx) => {
      // Serializes model changes (the row may not exist yet, so a row lock would not do).
      await sql`select pg_advisory_xact_lock(hashtextextended('conhub-indexer-embedding-model', 0))`.execute(
        trx,
      );
      const { rows } = await sql<{
        value: string;
      }>`select value from index_meta where key = 'embedding_model'`.execute(trx);
      if (rows[0]?.value === model && !options.reset) return;
      await sql`update chunks set embedded = 0 where embedded = 1`.execute(trx);
      await sql`delete from vector_tombstones`.execute(trx);
      await sql`insert into index_meta (key, value) values ('embedding_model', ${model})
        on conflict (key) do update set value = excluded.value`.execute(trx);
    });
  }

  async pendingEmbeddings(limit: number, afterChunkId = 0): Promise<PendingChunk[]> {
    const { rows } = await sql<PendingChunk>`
      select c.id as "chunkId", d.source_id as "sourceId", d.path, c.symbol_path as symbol, c.language, c.text
      from chunks c join documents d on d.id = c.document_id
      where c.embedded = 0 and c.id > ${afterChunkId}
      order by c.id limit ${limit}`.execute(this.db);
    return rows;
  }

  async markEmbedded(chunkIds: readonly number[]): Promise<void> {
    await this.write(async (trx) => {
      for (const batch of batches(chunkIds)) {
        // Ids whose chunks are gone (deleted while being embedded) become tombstones.
        await sql`
          with marked as (update chunks set embedded = 1 where id = any(${batch}::int[]) returning id)
          insert into vector_tombstones (chunk_id)
          select id from unnest(${batch}::bigint[]) as u(id) where id not in (select id from marked)
          on conflict (chunk_id) do nothing`.execute(trx);
      }
    });
  }

  async vectorTombstones(limit: number): Promise<number[]> {
    const { rows } = await sql<{ chunk_id: string }>`
      select chunk_id from vector_tombstones order by chunk_id limit ${limit}`.execute(this.db);
    return rows.map((r) => Number(r.chunk_id));
  }

  async clearVectorTombstones(chunkIds: readonly number[]): Promise<void> {
    await this.write(async (trx) => {
      for (const batch of batches(chunkIds)) {
        await sql`delete from vector_tombstones where chunk_id = any(${batch}::bigint[])`.execute(trx);
      }
    });
  }

  async embeddingProgress(sourceIds?: readonly string[]): Promise<EmbeddingProgress> {
    const where = filterSql(sourceIds ? { sourceIds: [...sourceIds] } : undefined) ?? sql``;
    const { rows } = await sql<{ chunks: number; embedded: number }>`
      select count(*)::float8 as chunks, coalesce(sum(c.embedded), 0)::float8 as embedded
      from chunks c join documents d on d.id = c.document_id where true ${where}`.execute(this.db);
    return { chunks: rows[0]!.chunks, embedded: rows[0]!.embedded };
  }

  async chunksById(
    chunkIds: readonly number[],
    filters?: SearchFilters,
    terms: readonly string[] = [],
  ): Promise<SearchHit[]> {
    if (chunkIds.length === 0) return [];
    const pathFilter = filters?.pathGlob ? globToRegExp(filters.pathGlob) : undefined;
    const where = filterSql(filters) ?? sql``;
    const byId = new Map<number, HitRow>();
    for (const batch of batches(chunkIds)) {
      const { rows } = await sql<HitRow>`
        select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, 0 as score
        from chunks c join documents d on d.id = c.document_id
        where c.id = any(${batch.filter((id) => Number.isInteger(id) && id > 0 && id < 2 ** 31)}::int[]) ${where}`.execute(
        this.db,
      );
      for (const row of rows) {
        if (pathFilter && !pathFilter.test(row.path)) continue;
        byId.set(Number(row.id), row);
      }
    }
    const hits: SearchHit[] = [];
    for (const id of chunkIds) {
      const row = byId.get(id);
      if (row) hits.push(hitFromRow(row, terms));
    }
    return hits;
  }
}

/**
 * Removes the documents matching `condition` (on `d`), their chunks'
 * postings, and (by cascade) their chunks, symbols and redactions; counts
 * the chunks and tokens removed into `delta`. Returns the documents removed.
 */
async function deleteDocuments(db: Db, condition: RawBuilder<unknown>, delta: TotalsDelta): Promise<number> {
  // Counts only the chunks of documents this statement deleted: a concurrent writer may delete some first.
  const { rows } = await sql<{
    documents: number;
    chunks: number;
    tokens: number;
    terms: string[] | null;
    counts: number[] | null;
  }>`
    with gone as (delete from documents d where ${condition} returning d.id),
    c as (select c.id, c.fts_length from chunks c where c.document_id in (select id from gone)),
    gone_postings as (delete from keyword_postings p where p.chunk_id in (select id from c) returning p.term),
    df as (select term, count(*)::int as n from gone_postings group by term)
    select (select count(*) from gone)::int as documents, (select count(*) from c)::int as chunks,
           (select coalesce(sum(fts_length), 0) from c)::float8 as tokens,
           (select array_agg(term) from df) as terms, (select array_agg(n) from df) as counts`.execute(db);
  const r = rows[0]!;
  delta.chunks -= r.chunks;
  delta.tokens -= r.tokens;
  const terms = r.terms ?? [];
  const counts = r.counts ?? [];
  for (let i = 0; i < terms.length; i++) delta.df.set(terms[i]!, (delta.df.get(terms[i]!) ?? 0) - counts[i]!);
  return r.documents;
}

/** Holds a document's path until the transaction ends (documents not yet stored have no row to lock). */
async function lockDocument(db: Db, sourceId: string, path: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`${sourceId}\n${path}`}, 0))`.execute(db);
}

async function applyTotals(db: Db, delta: TotalsDelta): Promise<void> {
  // Rows locked in one order (by term, then the totals) by every writer: two cannot deadlock.
  const terms = [...delta.df.keys()].filter((t) => delta.df.get(t) !== 0).sort();
  for (const batch of batches(terms, 10_000)) {
    await sql`insert into keyword_df (term, n)
      select * from unnest(${batch}::text[], ${batch.map((t) => delta.df.get(t)!)}::bigint[])
      on conflict (term) do update set n = keyword_df.n + excluded.n`.execute(db);
  }
  const fewer = terms.filter((t) => delta.df.get(t)! < 0);
  for (const batch of batches(fewer, 10_000))
    await sql`delete from keyword_df where n = 0 and term = any(${batch}::text[])`.execute(db);
  if (delta.chunks === 0 && delta.tokens === 0) return;
  await sql`update keyword_totals set chunks = chunks + ${delta.chunks}, tokens = tokens + ${delta.tokens} where id = 1`.execute(
    db,
  );
}

/** `like` patterns need `\`, `%` and `_` escaped. */
function likeLiteral(literal: string): string {
  return `%${literal.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The SQL condition picking grep candidates: for some alternative, the
 * chunk holds each of its literals (`requiredLiterals`), through the
 * trigram index. Case-insensitive patterns keep only ASCII literals
 * (`ILIKE` folds case by the database's locale, RE2 by Unicode's rules:
 * they agree on ASCII); an alternative left without one means no
 * prefilter.
 */
function likePrefilter(
  literals: readonly (readonly string[])[],
  ignoreCase: boolean,
): RawBuilder<unknown> | undefined {
  const branches: RawBuilder<unknown>[] = [];
  for (const branch of literals) {
    const usable = ignoreCase ? branch.filter((l) => /^[\x20-\x7e]+$/.test(l)) : branch;
    if (usable.length === 0) return undefined;
    const op = ignoreCase ? sql`ilike` : sql`like`;
    branches.push(
      sql`(${sql.join(
        usable.map((l) => sql`c.text ${op} ${pgText(likeLiteral(l))}`),
        sql` and `,
      )})`,
    );
  }
  return sql.join(branches, sql` or `);
}

/** SQL conditions (each starting with `and`) for the filters SQL can check: sources, languages, kinds. */
function filterSql(filters: SearchFilters | undefined): RawBuilder<unknown> | undefined {
  const parts: RawBuilder<unknown>[] = [];
  if (filters?.sourceIds) {
    parts.push(
      filters.sourceIds.length > 0
        ? sql`and d.source_id in (${sql.join(filters.sourceIds)})`
        : sql`and false`,
    );
  }
  if (filters?.languages?.length) parts.push(sql`and c.language in (${sql.join(filters.languages)})`);
  if (filters?.kinds?.length) parts.push(sql`and c.kind in (${sql.join(filters.kinds)})`);
  if (filters?.pathGlob) {
    // What SQL can check of the glob; the caller's RegExp (`globToRegExp`) stays the exact check.
    const { prefix, suffix } = globBounds(filters.pathGlob);
    if (prefix) parts.push(sql`and left(d.path, ${[...prefix].length}) = ${prefix}`);
    if (suffix) parts.push(sql`and right(d.path, ${[...suffix].length}) = ${suffix}`);
  }
  return parts.length === 0 ? undefined : sql.join(parts, sql` `);
}

/**
 * Executes a keyword search plan (`plan.ts`) on the postings table: a
 * chunk's terms among the expression's, aggregated, tested against the
 * boolean expression. Matching and ranking read postings only; the filters
 * then check the chosen ids (`= any(ids)`, which the planner sizes right),
 * page by page. Joined in one statement, the planner misjudged the
 * aggregate's size (one row for thousands) and looped over documents.
 */
export class PostgresPlanExecutor implements PlanExecutor {
  private readonly pathFilter: RegExp | undefined;
  private readonly where: RawBuilder<unknown> | undefined;
  /** Document frequencies read by `frequencies`, by phrase. */
  private df: Map<string, number> | undefined;

  constructor(
    private readonly db: Db,
    filters: SearchFilters | undefined,
  ) {
    this.pathFilter = filters?.pathGlob ? globToRegExp(filters.pathGlob) : undefined;
    this.where = filterSql(filters);
  }

  async frequencies(phrases: readonly string[]): Promise<{ df: Map<string, number>; chunks: number }> {
    const keys = [...new Set(phrases)].map((p) => [postingKey(p), p] as const);
    const byKey = new Map(keys);
    const { rows } = await sql<{ term: string; n: number }>`
      select term, n::float8 as n from keyword_df where term = any(${keys.map(([k]) => k)}::text[])`.execute(
      this.db,
    );
    const df = new Map<string, number>(phrases.map((p) => [p, 0]));
    for (const r of rows) df.set(byKey.get(r.term)!, Number(r.n));
    this.df = df;
    const totals = await sql<{ chunks: number }>`select chunks from keyword_totals where id = 1`.execute(
      this.db,
    );
    return { df, chunks: Number(totals.rows[0]?.chunks ?? 0) };
  }

  /**
   * A chunk satisfying an AND holds one of its first child's terms (expressions are ANDs and ORs of
   * terms). When those chunks are few next to all the expression's postings (the plan's ranking
   * `(kept) AND (kept OR w…)` with common left-out terms w), only their postings are read — a few
   * index probes each; otherwise every posting is aggregated (a scan of each term's postings
   * costs ~20× less per row than a probe).
   */
  private required(expr: PlanExpr): RawBuilder<unknown> | undefined {
    if (expr.op !== "and" || !this.df) return undefined;
    const postings = (phrases: string[]) =>
      [...new Set(phrases)].reduce((n, phrase) => n + (this.df!.get(phrase) ?? 0), 0);
    const first = exprPhrases(expr.children[0]!);
    if (postings(first) * 20 >= postings(exprPhrases(expr))) return undefined;
    const keys = [...new Set(first.map(postingKey))];
    return sql`and p.chunk_id in (select chunk_id from keyword_postings where term = any(${keys}::text[]))`;
  }

  /** The ids among `ids` that pass the filters, in the same order. */
  private async passing(ids: readonly number[]): Promise<number[]> {
    if (!this.where && !this.pathFilter) return [...ids];
    const kept = new Set<number>();
    for (const batch of batches(ids)) {
      const { rows } = await sql<{ id: number; path: string }>`
        select c.id, d.path from chunks c join documents d on d.id = c.document_id
        where c.id = any(${batch}::int[]) ${this.where ?? sql``}`.execute(this.db);
      for (const r of rows) if (!this.pathFilter || this.pathFilter.test(r.path)) kept.add(Number(r.id));
    }
    return ids.filter((id) => kept.has(id));
  }

  async candidates(expr: PlanExpr, max: number): Promise<PlanCandidates> {
    const keys = [...new Set(exprPhrases(expr).map(postingKey))];
    const having = condition(expr);
    const ids: number[] = [];
    const page = Math.max(max + 1, 1000);
    for (let after = 0; ; ) {
      const { rows } = await sql<{ chunk_id: number }>`
        select p.chunk_id from keyword_postings p
        where p.term = any(${keys}::text[]) and p.chunk_id > ${after}
        group by p.chunk_id ${having ? sql`having ${having}` : sql``}
        order by p.chunk_id limit ${page}`.execute(this.db);
      const found = rows.map((r) => Number(r.chunk_id));
      for (const id of await this.passing(found)) {
        if (ids.length === max) return { ids, complete: false };
        ids.push(id);
      }
      if (found.length < page) return { ids, complete: true };
      after = found[found.length - 1]!;
    }
  }

  async topByOwnTerms(expr: PlanExpr, max: number): Promise<number[]> {
    const ids: number[] = [];
    const filtered = this.where !== undefined || this.pathFilter !== undefined;
    // Each page recomputes the ranking (an aggregate of every posting involved): when the filters
    // keep few chunks, pages grow fourfold so a search takes a few statements, not one per page.
    let page = filtered ? Math.max(max * 5, 1000) : max;
    const ranking = {
      phrases: exprPhrases(expr).map(postingKey),
      restrict: this.required(expr),
      having: condition(expr),
    };
    for (let offset = 0; ids.length < max; offset += page, page *= 4) {
      const { rows } = await bm25RankQuery({ ...ranking, limit: page, offset }).execute(this.db);
      const found = rows.map((r) => Number(r.chunk_id));
      for (const id of await this.passing(found)) {
        ids.push(id);
        if (ids.length === max) break;
      }
      if (found.length < page) break;
    }
    return ids;
  }
}

/** The terms of an OR of terms (or of one term), else undefined. */
function anyOf(expr: PlanExpr): string[] | undefined {
  if (expr.op === "term") return [postingKey(expr.phrase)];
  if (expr.op === "and" || expr.children.some((c) => c.op !== "term")) return undefined;
  return [...new Set(exprPhrases(expr).map(postingKey))];
}

/** `expr` over a chunk's aggregated postings `p`, for `having`: `bool_or(p.term = any(…))` per OR of terms. */
function holds(expr: PlanExpr): RawBuilder<unknown> {
  const terms = anyOf(expr);
  if (terms || expr.op === "term") return sql`bool_or(p.term = any(${terms}::text[]))`;
  return sql`(${sql.join(expr.children.map(holds), expr.op === "and" ? sql` and ` : sql` or `)})`;
}

/**
 * The `having` condition for the chunks among `expr`'s postings that match it: none when `expr` is
 * an OR of terms (every chunk with a posting of one of them matches).
 */
function condition(expr: PlanExpr): RawBuilder<unknown> | undefined {
  return anyOf(expr) ? undefined : holds(expr);
}
