import type { RelationalStore } from "@conhub/storage";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { SkipReason } from "../classify.js";
import type { ChunkKind, Language, SymbolKind } from "../document.js";
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
import { ftsText } from "../tokenize.js";
import { decodeChunkText, encodeChunkText, type StoredChunkText } from "./chunk-text.js";
import { GrepCollector } from "./grep-scan.js";
import { LOCAL_ORG_ID } from "./migrations.js";
import { globBounds } from "./path-glob.js";
import { termPhrase } from "./plan.js";
import { BM25_WEIGHTS, columnStats, rowStats, type TermStats } from "./postgres-terms.js";
import {
  blockCount,
  createPostingsTables,
  createTotalsTable,
  PostingsJournal,
  rankByPostings,
  type ScoredChunk,
} from "./postings.js";
import { makeSnippet, requiredLiterals, searchTerms, trigramMatchExpression } from "./query.js";
import { compileGrepPattern, InvalidPatternError } from "./regex.js";

/**
 * The keyword index on SQLite: the plain tables of `migrations.ts` plus
 * tables created here because they exist only on SQLite:
 *
 * - the word index (`postings.ts`): `term_postings`, `term_df` and
 *   `keyword_totals`, kept by the writer. Each chunk counts as four columns
 *   — `name` (file name), `dir` (directory path), `symbol` (symbol path) and
 *   `body` — each through `ftsText` so identifiers are found by their parts,
 *   tokenized as FTS5's `porter unicode61` does. BM25 (FTS5's formula)
 *   weights the columns so a match in the file name or symbol counts more
 *   than one in the body (path and file-name boosting).
 * - `chunks_trigram` (FTS5 `trigram`, contentless): the original chunk
 *   text, to pick grep candidates by the literals a regex requires.
 *
 * Every write to a document (its row, chunks, symbols, redactions, postings
 * and trigrams) happens in one `BEGIN IMMEDIATE` transaction.
 */

/**
 * Bytes of the index file SQLite reads through a memory map instead of
 * `read()` into its page cache (`PRAGMA mmap_size`; 2 GiB is the largest
 * SQLite's default build allows, and only address space: the pages are the
 * OS's file cache). A query reads pages all over the file — postings or
 * trigram doclists, then its candidates' chunk rows — and copies each into the cache; mapped,
 * it reads them in place: at 1M chunks keyword search went from p50 / p95
 * 23.8 / 50.0 to 19.4 / 46.2 ms (warm, bench/RESULTS.md "scale").
 */
const SQLITE_MMAP_BYTES = 2 ** 31;
/**
 * With filters, the best-ranked chunks are checked against them until `limit` pass; after this
 * many, every chunk the filters keep is taken ahead and the search ranks among those alone.
 */
const FILTERED_RANKING_CAP = 20_000;
/** Rows per multi-row INSERT (well under SQLite's 32766 bound variables). */
const INSERT_BATCH = 400;

type Db = Kysely<unknown>;

/**
 * Creates the keyword tables SQLite alone has when missing (idempotent): the
 * word index (`term_postings`, `term_df`, `keyword_totals`, see
 * `postings.ts`) and the trigram table `chunks_trigram`.
 *
 * An index made before ADR 0010 also has an FTS5 word table, `chunks_fts`,
 * which nothing reads any more: its totals are taken into `keyword_totals`
 * (FTS5's own record of them, the same numbers), then it is dropped. One
 * made before the postings, or whose `chunks_fts` was still made with
 * `contentless_delete` (its totals drifted), gets its postings and totals
 * counted from the chunk rows, once.
 */
export async function ensureSqliteKeywordTables(db: Db, onUpgrade?: IndexUpgradeProgress): Promise<void> {
  const existing = await sql<{
    sql: string;
  }>`select sql from sqlite_master where name = 'chunks_fts'`.execute(db);
  const fts = existing.rows[0]?.sql;
  const drifted = fts?.includes("contentless_delete") === true;
  await ensurePostings(db, { refill: drifted, onUpgrade });
  await ensureTotals(db, { fromFts: fts !== undefined && !drifted, onUpgrade });
  await ensureTermDf(db);
  if (fts !== undefined) await sql`drop table if exists chunks_fts`.execute(db);
  await sql`create virtual table if not exists chunks_trigram using fts5(text, tokenize = 'trigram', content = '', contentless_delete = 1, detail = none)`.execute(
    db,
  );
}

/** Opens the keyword index on the indexer's SQLite store (its migrations must be applied). */
/**
 * Progress of work an index does once when it is opened by a newer version (filling the word index
 * of an index made before it existed: minutes at 1M chunks): chunks done of all of them.
 */
export type IndexUpgradeProgress = (progress: { step: string; done: number; total: number }) => void;

export interface OpenKeywordIndexOptions {
  onUpgrade?: IndexUpgradeProgress;
}

export async function openSqliteKeywordIndex(
  store: RelationalStore,
  options: OpenKeywordIndexOptions = {},
): Promise<KeywordIndex> {
  if (store.dialect !== "sqlite") {
    throw new Error(
      `The SQLite keyword index needs a SQLite store, got ${store.dialect}; the PostgreSQL keyword adapter (tsvector + pg_trgm) is a separate adapter of the same port.`,
    );
  }
  const db = store.db as Db;
  await sql.raw(`pragma mmap_size = ${SQLITE_MMAP_BYTES}`).execute(db);
  await ensureSqliteKeywordTables(db, options.onUpgrade);
  await ensureSqliteVectorTombstoneTrigger(db);
  return new SqliteKeywordIndex(db);
}

function now(): string {
  return new Date().toISOString();
}

function splitPath(path: string): { name: string; dir: string } {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? { name: path, dir: "" } : { name: path.slice(slash + 1), dir: path.slice(0, slash) };
}

function batches<T>(items: readonly T[], size = INSERT_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface HitRow {
  id: number;
  source_id: string;
  path: string;
  start_line: number;
  end_line: number;
  symbol_path: string;
  kind: ChunkKind;
  language: Language;
  text: string;
  score: number;
}

/** A `HitRow` as read from SQLite: the text as stored (`chunk-text.ts`). */
type StoredHitRow = Omit<HitRow, "text"> & { text: StoredChunkText };

function decodeRow(row: StoredHitRow): HitRow {
  return typeof row.text === "string" ? (row as HitRow) : { ...row, text: decodeChunkText(row.text) };
}

class SqliteKeywordIndex implements KeywordIndex {
  /** `inTransaction`: `db` is a transaction of `batch`, so writes join it instead of opening their own. */
  constructor(
    private readonly db: Db,
    private readonly inTransaction = false,
  ) {}

  /** Runs `fn` in a transaction (or the batch's), applying its document-frequency changes before the commit. */
  private write<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this.db);
    return this.db.transaction().execute(async (trx) => {
      const result = await fn(trx);
      await beforeCommit(trx);
      return result;
    });
  }

  /**
   * Runs a read of several statements on one snapshot of the index: on one connection, in a
   * deferred read transaction (WAL: it locks out no writer, and sees no write committed after it
   * began). Without it, a write of this process can run between two of the read's statements
   * (they share the connection), and a search could rank a chunk that the write then replaced —
   * and leave out a document that matched both before and after. Inside a batch, the batch's own
   * transaction is the snapshot.
   */
  private reading<T>(fn: (index: SqliteKeywordIndex) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.db.connection().execute(async (connection) => {
      await sql`begin`.execute(connection);
      try {
        const result = await fn(new SqliteKeywordIndex(connection, true));
        await sql`commit`.execute(connection);
        return result;
      } catch (err) {
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw err;
      }
    });
  }

  batch<T>(fn: (index: KeywordIndex) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return this.db.transaction().execute(async (trx) => {
      const result = await fn(new SqliteKeywordIndex(trx, true));
      await beforeCommit(trx);
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
      select id, root, org_id as "orgId" from sources ${where} order by id`.execute(this.db);
    return rows;
  }

  async deleteSource(sourceId: string): Promise<boolean> {
    return this.write(async (trx) => {
      const documents = await sql<{
        id: number;
      }>`select id from documents where source_id = ${sourceId}`.execute(trx);
      for (const { id } of documents.rows) await deleteDocument(trx, id);
      await sql`delete from skipped_files where source_id = ${sourceId}`.execute(trx);
      const removed = await sql`delete from sources where id = ${sourceId}`.execute(trx);
      return Number(removed.numAffectedRows ?? 0) > 0;
    });
  }

  async fileStates(sourceId: string): Promise<Map<string, StoredFileState>> {
    const states = new Map<string, StoredFileState>();
    const docs = await sql<{ path: string; content_hash: string; bytes: number; mtime_ms: number | null }>`
      select path, content_hash, bytes, mtime_ms from documents where source_id = ${sourceId}`.execute(
      this.db,
    );
    for (const r of docs.rows) {
      states.set(r.path, {
        path: r.path,
        state: "indexed",
        contentHash: r.content_hash,
        bytes: r.bytes,
        mtimeMs: r.mtime_ms,
        reason: null,
      });
    }
    const skipped = await sql<{ path: string; reason: SkipReason; bytes: number; mtime_ms: number | null }>`
      select path, reason, bytes, mtime_ms from skipped_files where source_id = ${sourceId}`.execute(this.db);
    for (const r of skipped.rows) {
      states.set(r.path, {
        path: r.path,
        state: "skipped",
        contentHash: null,
        bytes: r.bytes,
        mtimeMs: r.mtime_ms,
        reason: r.reason,
      });
    }
    return states;
  }

  async upsert(input: UpsertInput): Promise<UpsertOutcome> {
    const { document, chunks, symbols } = input;
    const mtime = input.mtimeMs === undefined ? null : Math.floor(input.mtimeMs);
    return this.write(async (trx) => {
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
      if (old) await deleteDocument(trx, old.id);
      await sql`delete from skipped_files where source_id = ${document.sourceId} and path = ${document.path}`.execute(
        trx,
      );
      const inserted = await sql<{ id: number }>`
        insert into documents (source_id, path, content_hash, language, media_type, bytes, mtime_ms, chunk_count, indexed_at)
        values (${document.sourceId}, ${document.path}, ${document.contentHash}, ${document.language}, ${document.mediaType},
                ${input.bytes}, ${mtime}, ${chunks.length}, ${now()})
        returning id`.execute(trx);
      const documentId = inserted.rows[0]!.id;
      const firstId = await reserveChunkIds(trx, chunks.length);
      const { nameTerms, dirTerms } = pathColumns(document.path);
      const rows = chunks.map((chunk, i) => ({ id: firstId + i, chunk }));
      for (const batch of batches(rows)) {
        await sql`insert into chunks (id, document_id, ordinal, start_line, end_line, start_byte, end_byte, kind, symbol_path, language, token_estimate, text) values ${sql.join(
          batch.map(
            ({ id, chunk: c }) =>
              sql`(${id}, ${documentId}, ${c.ordinal}, ${c.startLine}, ${c.endLine}, ${c.startByte}, ${c.endByte}, ${c.kind}, ${c.symbolPath}, ${c.language}, ${c.tokenEstimate}, ${encodeChunkText(c.text)})`,
          ),
        )}`.execute(trx);
        journalChunks(
          trx,
          batch.map(({ id, chunk: c }) => ({
            id,
            text: c.text,
            name: nameTerms,
            dir: dirTerms,
            symbol: ftsText(c.symbolPath),
          })),
        );
        await queueTrigrams(
          trx,
          batch.map(({ id, chunk: c }) => ({ id, text: c.text })),
        );
      }
      for (const batch of batches(symbols)) {
        await sql`insert into symbols (document_id, name, name_lower, kind, symbol_path, start_line, end_line, container) values ${sql.join(
          batch.map(
            (s) =>
              sql`(${documentId}, ${s.name}, ${s.name.toLowerCase()}, ${s.kind}, ${s.path}, ${s.startLine}, ${s.endLine}, ${s.container})`,
          ),
        )}`.execute(trx);
      }
      const redactions = Object.entries(input.redactions).filter(([, n]) => n > 0);
      if (redactions.length > 0) {
        await sql`insert into redactions (document_id, rule, count) values ${sql.join(
          redactions.map(([rule, n]) => sql`(${documentId}, ${rule}, ${n})`),
        )}`.execute(trx);
      }
      return "indexed" as const;
    });
  }

  async recordSkipped(input: SkippedInput): Promise<void> {
    const mtime = input.mtimeMs === undefined ? null : Math.floor(input.mtimeMs);
    await this.write(async (trx) => {
      const existing = await sql<{ id: number }>`
        select id from documents where source_id = ${input.sourceId} and path = ${input.path}`.execute(trx);
      if (existing.rows[0]) await deleteDocument(trx, existing.rows[0].id);
      await sql`insert into skipped_files (source_id, path, reason, detail, bytes, mtime_ms, recorded_at)
        values (${input.sourceId}, ${input.path}, ${input.reason}, ${input.detail ?? null}, ${input.bytes}, ${mtime}, ${now()})
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
    return this.write(async (trx) => {
      const existing = await sql<{ id: number }>`
        select id from documents where source_id = ${sourceId} and path = ${path}`.execute(trx);
      if (existing.rows[0]) await deleteDocument(trx, existing.rows[0].id);
      const skipped =
        await sql`delete from skipped_files where source_id = ${sourceId} and path = ${path}`.execute(trx);
      return existing.rows.length > 0 || Number(skipped.numAffectedRows ?? 0) > 0;
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
    const chunks = await sql<Omit<StoredDocument["chunks"][number], "text"> & { text: StoredChunkText }>`
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
      chunks: chunks.rows.map((c) => ({ ...c, chunkId: Number(c.chunkId), text: decodeChunkText(c.text) })),
    };
  }

  async documents(sourceId: string, query: DocumentListQuery = {}): Promise<DocumentSummary[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 100, 1000));
    const prefix = query.prefix
      ? sql`and path >= ${query.prefix} and path < ${`${query.prefix}\u{10ffff}`}`
      : sql``;
    const after = query.after !== undefined ? sql`and path > ${query.after}` : sql``;
    const { rows } = await sql<DocumentSummary>`
      select path, language, bytes, chunk_count as chunks, indexed_at as "indexedAt" from documents
      where source_id = ${sourceId} ${prefix} ${after} order by path limit ${limit}`.execute(this.db);
    return rows.map((r) => ({ ...r, bytes: Number(r.bytes), chunks: Number(r.chunks) }));
  }

  /**
   * `filters` without a source filter that keeps every document — an organization searching all of
   * its sources on an index that holds only them, as the embedded MCP server and the CLI always
   * do. Such a filter narrows nothing but makes every candidate join its document (at 1M chunks:
   * keyword p50 30.5 → 18.9 ms). Told by one index seek per gap between the filter's sources
   * (`documents_source_path` is ordered by source).
   */
  private async narrowing(filters: SearchFilters | undefined): Promise<SearchFilters | undefined> {
    const sourceIds = filters?.sourceIds;
    if (!sourceIds || sourceIds.length === 0 || sourceIds.length > 64) return filters;
    const sorted = [...new Set(sourceIds)].sort();
    const gaps = [sql`source_id < ${sorted[0]!}`];
    for (let i = 1; i < sorted.length; i++)
      gaps.push(sql`(source_id > ${sorted[i - 1]!} and source_id < ${sorted[i]!})`);
    gaps.push(sql`source_id > ${sorted[sorted.length - 1]!}`);
    const { rows } = await sql<{ other: number }>`
      select ${sql.join(
        gaps.map((gap) => sql`exists (select 1 from documents where ${gap})`),
        sql` or `,
      )} as other`.execute(this.db);
    if (Number(rows[0]?.other ?? 1) !== 0) return filters;
    const { sourceIds: _all, ...rest } = filters!;
    return rest;
  }

  search(query: KeywordQuery): Promise<SearchHit[]> {
    return this.reading((index) => index.searchNow(query));
  }

  private async searchNow(query: KeywordQuery): Promise<SearchHit[]> {
    const limit = Math.max(1, Math.min(query.limit ?? 10, 1000));
    const terms = searchTerms(query.query);
    if (terms.length === 0) return [];
    const phrases = terms.map(termPhrase).filter((p): p is string => p !== undefined);
    if (phrases.length === 0) return [];
    const filters = await this.narrowing(query.filters);
    const totals = await keywordFrequencies(this.db, phrases);
    const filtered = Boolean(
      filters?.sourceIds || filters?.languages?.length || filters?.kinds?.length || filters?.pathGlob,
    );
    const mask = filtered ? await this.filterMask(filters!) : undefined;
    const first = await rankByPostings(
      this.db,
      phrases,
      totals,
      limit,
      mask
        ? { mask }
        : filtered
          ? { filter: { accept: (page) => this.passing(page, filters), maxExamined: FILTERED_RANKING_CAP } }
          : {},
    );
    // When the filters keep too few of the best-ranked chunks to find `limit` of them that way, all
    // the chunks they keep are taken ahead instead (few, since so few of the best pass) and ranked alone.
    const { ranked } = first.complete
      ? first
      : await rankByPostings(this.db, phrases, totals, limit, {
          mask: (await this.filterMask(filters!, { unbounded: true }))!,
        });
    if (ranked.length === 0) return [];
    const { rows } = await sql<StoredHitRow>`
      select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, 0 as score
      from chunks c join documents d on d.id = c.document_id where c.id in (${sql.join(ranked.map((r) => r.id))})`.execute(
      this.db,
    );
    const byId = new Map(rows.map((r) => [Number(r.id), r]));
    return ranked.flatMap(({ id, score }) => {
      const stored = byId.get(id);
      return stored ? [hitFromRow({ ...decodeRow(stored), score }, terms)] : [];
    });
  }

  /**
   * The chunks the filters keep, as a mask by chunk id, when their documents are at most a tenth
   * of the index (a source, a directory); else undefined, and the best-ranked chunks are checked
   * against the filters instead (most of them pass a broad filter). `unbounded`: the mask however
   * many they keep.
   */
  private async filterMask(
    filters: SearchFilters,
    options: { unbounded?: boolean } = {},
  ): Promise<Uint8Array | undefined> {
    if (!options.unbounded && !filters.sourceIds && !filters.pathGlob) return undefined;
    const where = filterSql({ sourceIds: filters.sourceIds, pathGlob: filters.pathGlob });
    let cap = sql``;
    let most = Number.POSITIVE_INFINITY;
    if (!options.unbounded) {
      const total = await sql<{ n: number }>`select count(*) as n from documents`.execute(this.db);
      most = Math.ceil(Number(total.rows[0]?.n ?? 0) / 10);
      cap = sql`limit ${most + 1}`;
    }
    const { rows } = await sql<{ id: number; path: string }>`
      select d.id, d.path from documents d where 1 = 1 ${where} ${cap}`.execute(this.db);
    if (rows.length > most) return undefined;
    const pathFilter = filters.pathGlob ? globToRegExp(filters.pathGlob) : undefined;
    const documents = rows.filter((r) => !pathFilter || pathFilter.test(r.path)).map((r) => Number(r.id));
    const chunkWhere = filterSql({ languages: filters.languages, kinds: filters.kinds });
    const ids: number[] = [];
    for (let at = 0; at < documents.length; at += INSERT_BATCH * 4) {
      const some = documents.slice(at, at + INSERT_BATCH * 4);
      const found = await sql<{ id: number }>`
        select c.id from chunks c where c.document_id in (${sql.join(some)}) ${chunkWhere}`.execute(this.db);
      for (const r of found.rows) ids.push(Number(r.id));
    }
    const mask = new Uint8Array(ids.reduce((m, id) => Math.max(m, id), 0) + 1);
    for (const id of ids) mask[id] = 1;
    return mask;
  }

  /** Of `page` (chunks in score order), the ones the filters keep, in the same order. */
  private async passing(
    page: readonly ScoredChunk[],
    filters: SearchFilters | undefined,
  ): Promise<ScoredChunk[]> {
    const pathFilter = filters?.pathGlob ? globToRegExp(filters.pathGlob) : undefined;
    const kept = new Set<number>();
    for (let at = 0; at < page.length; at += INSERT_BATCH * 4) {
      const ids = page.slice(at, at + INSERT_BATCH * 4).map((c) => c.id);
      const { rows } = await sql<{ id: number; path: string }>`
        select c.id, d.path from chunks c join documents d on d.id = c.document_id
        where c.id in (${sql.join(ids)}) ${filterSql(filters)}`.execute(this.db);
      for (const r of rows) if (!pathFilter || pathFilter.test(r.path)) kept.add(Number(r.id));
    }
    return page.filter((c) => kept.has(c.id));
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
    const where = filterSql(await this.narrowing(query.filters));
    const collector = new GrepCollector(compiled.matcher, limit, pathFilter);
    const page = 500;
    let lastId = 0;
    for (;;) {
      const { rows } = literals
        ? await sql<StoredHitRow>`
            select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, 0 as score
            from chunks_trigram t
            cross join chunks c on c.id = t.rowid
            cross join documents d on d.id = c.document_id
            where chunks_trigram match ${trigramMatchExpression(literals)} and c.id > ${lastId} ${where}
            order by c.id limit ${page}`.execute(this.db)
        : await sql<StoredHitRow>`
            select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, 0 as score
            from chunks c
            join documents d on d.id = c.document_id
            where c.id > ${lastId} ${where}
            order by c.id limit ${page}`.execute(this.db);
      for (const stored of rows) {
        lastId = stored.id;
        // Checked before inflating the text (the collector checks it again, cheaply).
        if (pathFilter && !pathFilter.test(stored.path)) continue;
        if (!collector.add(decodeRow(stored))) break;
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
        ? sql`s.name_lower >= ${name} and s.name_lower < ${`${name}\u{10ffff}`}`
        : sql`s.name_lower = ${name}`;
    const kinds = query.kinds?.length ? sql`and s.kind in (${sql.join(query.kinds)})` : sql``;
    const sources = !query.sourceIds
      ? sql``
      : query.sourceIds.length > 0
        ? sql`and d.source_id in (${sql.join(query.sourceIds)})`
        : sql`and 0 = 1`;
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
      order by case when s.name = ${query.name} then 0 else 1 end, length(s.name), d.path, s.start_line
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
    const totals = await sql<{ documents: number; bytes: number | null; chunks: number | null }>`
      select count(*) as documents, sum(d.bytes) as bytes, sum(d.chunk_count) as chunks from documents d ${docWhere}`.execute(
      this.db,
    );
    const symbolCount = await sql<{ n: number }>`
      select count(*) as n from symbols s join documents d on d.id = s.document_id ${docWhere}`.execute(
      this.db,
    );
    const skipped = await sql<{ reason: SkipReason; n: number }>`
      select reason, count(*) as n from skipped_files ${skipWhere} group by reason order by reason`.execute(
      this.db,
    );
    const redactions = await sql<{ rule: string; n: number }>`
      select r.rule, sum(r.count) as n from redactions r join documents d on d.id = r.document_id ${docWhere}
      group by r.rule order by r.rule`.execute(this.db);
    const sources =
      sourceId === undefined
        ? (await sql<{ n: number }>`select count(*) as n from sources`.execute(this.db)).rows[0]!.n
        : 1;
    const t = totals.rows[0]!;
    return {
      sources,
      documents: t.documents,
      chunks: t.chunks ?? 0,
      symbols: symbolCount.rows[0]!.n,
      bytes: t.bytes ?? 0,
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
    const { rows } = await sql<Omit<PendingChunk, "text"> & { text: StoredChunkText }>`
      select c.id as "chunkId", d.source_id as "sourceId", d.path, c.symbol_path as symbol, c.language, c.text
      from chunks c join documents d on d.id = c.document_id
      where c.embedded = 0 and c.id > ${afterChunkId}
      order by c.id limit ${limit}`.execute(this.db);
    return rows.map((r) => ({ ...r, text: decodeChunkText(r.text) }));
  }

  async markEmbedded(chunkIds: readonly number[]): Promise<void> {
    await this.write(async (trx) => {
      for (const batch of batches(chunkIds)) {
        await sql`update chunks set embedded = 1 where id in (${sql.join(batch)})`.execute(trx);
        const found = await sql<{
          id: number;
        }>`select id from chunks where id in (${sql.join(batch)})`.execute(trx);
        const present = new Set(found.rows.map((r) => Number(r.id)));
        const gone = batch.filter((id) => !present.has(id));
        if (gone.length > 0) {
          await sql`insert into vector_tombstones (chunk_id) values ${sql.join(gone.map((id) => sql`(${id})`))}
            on conflict (chunk_id) do nothing`.execute(trx);
        }
      }
    });
  }

  async vectorTombstones(limit: number): Promise<number[]> {
    const { rows } = await sql<{ chunk_id: number }>`
      select chunk_id from vector_tombstones order by chunk_id limit ${limit}`.execute(this.db);
    return rows.map((r) => Number(r.chunk_id));
  }

  async clearVectorTombstones(chunkIds: readonly number[]): Promise<void> {
    await this.write(async (trx) => {
      for (const batch of batches(chunkIds)) {
        await sql`delete from vector_tombstones where chunk_id in (${sql.join(batch)})`.execute(trx);
      }
    });
  }

  async embeddingProgress(sourceIds?: readonly string[]): Promise<EmbeddingProgress> {
    const where = filterSql(sourceIds ? { sourceIds: [...sourceIds] } : undefined);
    const { rows } = await sql<{ chunks: number; embedded: number | null }>`
      select count(*) as chunks, sum(c.embedded) as embedded
      from chunks c join documents d on d.id = c.document_id where 1 = 1 ${where}`.execute(this.db);
    return { chunks: Number(rows[0]!.chunks), embedded: Number(rows[0]!.embedded ?? 0) };
  }

  async chunksById(
    chunkIds: readonly number[],
    filters?: SearchFilters,
    terms: readonly string[] = [],
  ): Promise<SearchHit[]> {
    if (chunkIds.length === 0) return [];
    const pathFilter = filters?.pathGlob ? globToRegExp(filters.pathGlob) : undefined;
    const where = filterSql(filters);
    const byId = new Map<number, StoredHitRow>();
    // `cross join`: look the chunks up by id first. With a source filter SQLite
    // would otherwise start from every document of the source and walk their
    // chunks (233 ms for 10 ids at 1M chunks, 3 ms this way).
    for (const batch of batches(chunkIds)) {
      const { rows } = await sql<StoredHitRow>`
        select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, 0 as score
        from chunks c cross join documents d on d.id = c.document_id
        where c.id in (${sql.join(batch)}) ${where}`.execute(this.db);
      for (const row of rows) {
        if (pathFilter && !pathFilter.test(row.path)) continue;
        byId.set(Number(row.id), row);
      }
    }
    const hits: SearchHit[] = [];
    for (const id of chunkIds) {
      const row = byId.get(id);
      if (row) hits.push(hitFromRow(decodeRow(row), terms));
    }
    return hits;
  }
}

/** A search hit from a chunk row, with a snippet around the terms. */
export function hitFromRow(row: HitRow, terms: readonly string[]): SearchHit {
  const snippet = makeSnippet(row.text, row.start_line, terms);
  return {
    chunkId: Number(row.id),
    sourceId: row.source_id,
    path: row.path,
    startLine: row.start_line,
    endLine: row.end_line,
    symbol: row.symbol_path,
    kind: row.kind,
    language: row.language,
    score: Math.round(row.score * 10000) / 10000,
    snippet: snippet.text,
    snippetLine: snippet.line,
    highlights: snippet.highlights,
  };
}

/**
 * The trigger that turns the deletion of an embedded chunk (directly or by
 * cascade from its document) into a vector tombstone, in the same
 * transaction; idempotent.
 */
export async function ensureSqliteVectorTombstoneTrigger(db: Db): Promise<void> {
  await sql`create trigger if not exists chunks_vector_tombstone after delete on chunks when old.embedded = 1
    begin insert or ignore into vector_tombstones (chunk_id) values (old.id); end`.execute(db);
}

/**
 * Reserves `count` chunk ids and returns the first. Ids come from a counter
 * in `index_meta` that only grows (never `max(id) + 1`), so an id is never
 * given to a second chunk and a vector keyed by it cannot be mistaken for
 * another chunk's.
 */
async function reserveChunkIds(db: Db, count: number): Promise<number> {
  const { rows } = await sql<{ next: number }>`
    select max(coalesce((select cast(value as integer) from index_meta where key = 'next_chunk_id'), 1),
               coalesce((select max(id) from chunks), 0) + 1) as next`.execute(db);
  const first = rows[0]!.next;
  await sql`insert into index_meta (key, value) values ('next_chunk_id', ${String(first + count)})
    on conflict (key) do update set value = excluded.value`.execute(db);
  return first;
}

/** The `name` and `dir` columns of a document's chunks (file name with its extension as a word). */
function pathColumns(path: string): { nameTerms: string; dirTerms: string } {
  const { name, dir } = splitPath(path);
  return {
    nameTerms: ftsText(name.replace(/\.[^.]*$/, (ext) => ` ${ext.slice(1)}`)),
    dirTerms: ftsText(dir),
  };
}

interface ChunkSourceRow {
  id: number;
  path: string;
  symbol_path: string;
  text: StoredChunkText;
}

/**
 * A chunk's four word columns, as the word index counts them (`rowStats`): file name, directory,
 * symbol path and body, each through `ftsText`; weighted by `BM25_WEIGHTS`.
 */
export interface ChunkColumns {
  id: number;
  /** The chunk's text (`body` is `ftsText` of it), when at hand: its body stats may be precomputed. */
  text?: string;
  name: string;
  dir: string;
  symbol: string;
  body: string;
}

/** The word columns of stored chunk rows, exactly as they were counted when the chunks were added. */
function chunkColumns(rows: readonly ChunkSourceRow[]): ChunkColumns[] {
  const byPath = new Map<string, { nameTerms: string; dirTerms: string }>();
  return rows.map((r) => {
    let cols = byPath.get(r.path);
    if (!cols) {
      cols = pathColumns(r.path);
      byPath.set(r.path, cols);
    }
    return {
      id: r.id,
      name: cols.nameTerms,
      dir: cols.dirTerms,
      symbol: ftsText(r.symbol_path),
      body: ftsText(decodeChunkText(r.text)),
    };
  });
}

/** A chunk about to be journaled: its word columns, the body only if already at hand (else `ftsText` of its text, when needed). */
type JournalRow = Omit<ChunkColumns, "body"> & { body?: string };

/** The postings stats of rows (`rowStats`), each document's name and dir columns counted once. */
function columnsStats(rows: readonly JournalRow[]): TermStats[] {
  const columns = new Map<string, TermStats>();
  const column = (text: string, weight: number) => {
    const key = `${weight}:${text}`;
    let stats = columns.get(key);
    if (!stats) {
      stats = columnStats(text, weight);
      columns.set(key, stats);
    }
    return stats;
  };
  return rows.map((r) =>
    rowStats(column(r.name, BM25_WEIGHTS[0]), column(r.dir, BM25_WEIGHTS[1]), r.symbol, BM25_WEIGHTS[2], {
      text: r.text,
      column: () => r.body ?? ftsText(r.text ?? ""),
    }),
  );
}

/**
 * Calls `fn` with the word columns of every chunk, a page at a time, in id order (filling the word
 * index of an older index; tests build an FTS5 reference from them).
 */
export async function forEachChunkColumns(
  db: Db,
  fn: (rows: ChunkColumns[]) => Promise<void>,
): Promise<void> {
  for (let after = 0; ; ) {
    const { rows } = await sql<ChunkSourceRow>`
      select c.id, d.path, c.symbol_path, c.text from chunks c join documents d on d.id = c.document_id
      where c.id > ${after} order by c.id limit ${INSERT_BATCH}`.execute(db);
    if (rows.length === 0) return;
    await fn(chunkColumns(rows));
    after = rows[rows.length - 1]!.id;
  }
}

async function tableExists(db: Db, name: string): Promise<boolean> {
  const { rows } = await sql`select 1 from sqlite_master where type = 'table' and name = ${name}`.execute(db);
  return rows.length > 0;
}

/** Removes a document: its chunks' postings and trigram rows, and (by cascade) its chunks, symbols and redactions. */
async function deleteDocument(db: Db, documentId: number): Promise<void> {
  // This transaction's pending trigram rows go in first, so the delete below finds them.
  await flushPendingTrigrams(db);
  const { rows } = await sql<ChunkSourceRow>`
    select c.id, d.path, c.symbol_path, c.text from chunks c join documents d on d.id = c.document_id
    where c.document_id = ${documentId}`.execute(db);
  const journal = postingsJournal(db);
  for (const batch of batches(rows)) {
    const columns = chunkColumns(batch);
    const stats = columnsStats(columns);
    for (const [i, r] of columns.entries()) journal.remove(r.id, stats[i]!);
  }
  await sql`delete from chunks_trigram where rowid in (select id from chunks where document_id = ${documentId})`.execute(
    db,
  );
  await sql`delete from documents where id = ${documentId}`.execute(db);
}

/** Adds chunks' postings and totals to the transaction's `PostingsJournal` (`term_postings`, `term_df`, `keyword_totals`). */
function journalChunks(db: Db, rows: readonly JournalRow[]): void {
  const journal = postingsJournal(db);
  const stats = columnsStats(rows);
  for (const [i, r] of rows.entries()) journal.add(r.id, stats[i]!);
}

/**
 * Rows of a transaction waiting to go into `chunks_trigram` (`queueTrigrams`), written together
 * before the transaction ends, before a document is deleted in it, or when they reach
 * `PENDING_TRIGRAM_CHARS`.
 *
 * Why not right away: FTS5 keeps the terms of the rows inserted into it in memory and writes them
 * as one new segment when the transaction commits — or whenever a statement opens a savepoint,
 * which every multi-row INSERT into a table with constraints does (its statement journal).
 * Inserted document by document between the chunk and symbol rows, FTS5 wrote a tiny segment per
 * document and spent its time merging them (with the FTS5 word table there was then: 11.5 of the
 * writer's 19 s of SQLite on kafka, most of it charged to the next statement, `insert into
 * symbols`). Written after the plain tables, its segments are one per flush.
 */
interface PendingTrigrams {
  rows: { id: number; text: string }[];
  chars: number;
}

const pendingTrigrams = new WeakMap<Db, PendingTrigrams>();
/** Characters of pending trigram text at which they are written. */
const PENDING_TRIGRAM_CHARS = 8 * 1024 * 1024;

async function queueTrigrams(db: Db, rows: readonly { id: number; text: string }[]): Promise<void> {
  let pending = pendingTrigrams.get(db);
  if (!pending) {
    pending = { rows: [], chars: 0 };
    pendingTrigrams.set(db, pending);
  }
  for (const r of rows) {
    pending.rows.push(r);
    pending.chars += r.text.length;
  }
  if (pending.chars >= PENDING_TRIGRAM_CHARS) await flushPendingTrigrams(db);
}

async function flushPendingTrigrams(db: Db): Promise<void> {
  const pending = pendingTrigrams.get(db);
  if (!pending || pending.rows.length === 0) return;
  pendingTrigrams.delete(db);
  for (const batch of batches(pending.rows)) {
    await sql`insert into chunks_trigram (rowid, text) values ${sql.join(
      batch.map((r) => sql`(${r.id}, ${r.text})`),
    )}`.execute(db);
  }
}

/** What a transaction of the index does last: its pending trigram rows, then its postings changes. */
async function beforeCommit(db: Db): Promise<void> {
  await flushPendingTrigrams(db);
  await applyPostingsJournal(db);
}

/** The postings journal of a transaction (`db` is the transaction). */
const postingsJournals = new WeakMap<Db, PostingsJournal>();

function postingsJournal(db: Db): PostingsJournal {
  let journal = postingsJournals.get(db);
  if (!journal) {
    journal = new PostingsJournal();
    postingsJournals.set(db, journal);
  }
  return journal;
}

/**
 * `term_df (term, df)`: how many chunks hold each term a query can ask for,
 * kept by the writer so a query's document frequencies are one primary-key
 * lookup per term. (FTS5 stores no document frequency: its `fts5vocab`
 * table counts a term's rows by reading its whole doclist, 10–60 ms for a
 * query's terms at 1M chunks.) It changes with `term_postings`, in the same
 * transaction (`PostingsJournal.apply`): one per chunk added to or removed
 * from a term's postings. Filled with `term_postings` (`ensurePostings`); an index that has
 * the postings but not this table gets it counted from them when opened.
 */
async function ensureTermDf(db: Db): Promise<void> {
  const exists = (q: Db) => tableExists(q, "term_df");
  // Checked before the (write-locking) transaction: opening an index that has it must not wait for a writer.
  if (await exists(db)) return;
  await db.transaction().execute(async (trx) => {
    if (await exists(trx)) return;
    await sql`create table term_df (term text primary key, df integer not null) without rowid`.execute(trx);
    // Counted from the postings, a page of blocks at a time (a block's first varint is its count).
    const counts = new Map<string, number>();
    for (let after: [string, number] = ["", -1]; ; ) {
      const { rows } = await sql<{ term: string; first_id: number; data: Uint8Array }>`
        select term, first_id, data from term_postings where (term, first_id) > (${after[0]}, ${after[1]})
        order by term, first_id limit 20000`.execute(trx);
      if (rows.length === 0) break;
      for (const r of rows) counts.set(r.term, (counts.get(r.term) ?? 0) + blockCount(r.data));
      const last = rows[rows.length - 1]!;
      after = [last.term, Number(last.first_id)];
    }
    const entries = [...counts];
    for (let at = 0; at < entries.length; at += 400) {
      await sql`insert into term_df (term, df) values ${sql.join(
        entries.slice(at, at + 400).map(([t, n]) => sql`(${t}, ${n})`),
      )}`.execute(trx);
    }
  });
}

/**
 * `term_postings` (`postings.ts`), kept by the writer like `term_df`; an index made before it
 * existed gets it filled from its chunk rows once, when opened.
 */
async function ensurePostings(
  db: Db,
  options: { refill: boolean; onUpgrade?: IndexUpgradeProgress | undefined },
): Promise<void> {
  const exists = (q: Db) => tableExists(q, "term_postings");
  if (!options.refill && (await exists(db))) return;
  await db.transaction().execute(async (trx) => {
    if (!options.refill && (await exists(trx))) return;
    const counted = await sql<{ n: number }>`select count(*) as n from chunks`.execute(trx);
    const total = Number(counted.rows[0]?.n ?? 0);
    const step = "filling the word index from the chunks";
    // A new, empty index is not an upgrade: nothing to report.
    const report = total > 0 ? options.onUpgrade : undefined;
    report?.({ step, done: 0, total });
    // The journal keeps term_df as it writes the postings: both counted afresh.
    await createPostingsTables(trx);
    const journal = new PostingsJournal();
    let pending = 0;
    let done = 0;
    await forEachChunkColumns(trx, async (rows) => {
      const stats = columnsStats(rows);
      for (const [i, r] of rows.entries()) journal.add(r.id, stats[i]!);
      pending += rows.length;
      done += rows.length;
      if (pending >= POSTINGS_FILL_SLICE) {
        await journal.apply(trx);
        pending = 0;
        report?.({ step, done, total });
      }
    });
    await journal.apply(trx);
    report?.({ step, done: total, total });
  });
}

/**
 * `keyword_totals` (`postings.ts`), kept by the journal with the postings. An index made before it
 * existed takes it from its FTS5 word table's own record of the totals (`chunks_fts_data` row 1),
 * when it has that table (`fromFts`), else counts it with its postings from the chunk rows.
 */
async function ensureTotals(
  db: Db,
  options: { fromFts: boolean; onUpgrade?: IndexUpgradeProgress | undefined },
): Promise<void> {
  if (await tableExists(db, "keyword_totals")) return;
  if (!options.fromFts) {
    await ensurePostings(db, { refill: true, onUpgrade: options.onUpgrade });
    return;
  }
  await db.transaction().execute(async (trx) => {
    if (await tableExists(trx, "keyword_totals")) return;
    const { rows } = await sql<{ block: Uint8Array }>`select block from chunks_fts_data where id = 1`.execute(
      trx,
    );
    const block = rows[0]?.block;
    await createTotalsTable(trx, block ? parseTotals(block) : { chunks: 0, tokens: 0 });
  });
}

/** Chunks whose postings are gathered in memory before they are written, when filling `term_postings`. */
const POSTINGS_FILL_SLICE = 4000;

/** Applies the transaction's postings journal (`term_postings` and `term_df`), then empties it. */
async function applyPostingsJournal(db: Db): Promise<void> {
  const journal = postingsJournals.get(db);
  if (journal && !journal.empty) await journal.apply(db);
}

/** SQL conditions (each starting with `and`) for the filters SQL can check: sources, languages, kinds. */
function filterSql(filters: SearchFilters | undefined): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (filters?.sourceIds) {
    parts.push(
      filters.sourceIds.length > 0
        ? sql`and d.source_id in (${sql.join(filters.sourceIds)})`
        : sql`and 0 = 1`,
    );
  }
  if (filters?.languages?.length) parts.push(sql`and c.language in (${sql.join(filters.languages)})`);
  if (filters?.kinds?.length) parts.push(sql`and c.kind in (${sql.join(filters.kinds)})`);
  if (filters?.pathGlob) {
    // What SQL can check of the glob; the caller's RegExp (`globToRegExp`) stays the exact check.
    const { prefix, suffix } = globBounds(filters.pathGlob);
    if (prefix) parts.push(sql`and substr(d.path, 1, ${[...prefix].length}) = ${prefix}`);
    if (suffix) parts.push(sql`and substr(d.path, ${-[...suffix].length}) = ${suffix}`);
  }
  return parts.length === 0 ? sql`` : sql.join(parts, sql` `);
}

/** FTS5's averages record: varint row count, then one varint token total per column. */
function parseTotals(block: Uint8Array): { chunks: number; tokens: number } {
  let at = 0;
  const varint = (): number => {
    // SQLite's varint: big-endian 7-bit groups, high bit = more; the 9th byte has 8 bits.
    let value = 0;
    for (let i = 0; i < 9 && at < block.length; i++) {
      const byte = block[at++]!;
      if (i === 8) return value * 256 + byte;
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) return value;
    }
    return value;
  };
  const chunks = varint();
  let tokens = 0;
  while (at < block.length) tokens += varint();
  return { chunks, tokens };
}

/**
 * BM25's statistics for a query: the document frequency of each of `phrases` from `term_df`
 * (kept by the writer, see `ensureTermDf`) and the index totals from `keyword_totals` (kept with
 * the postings). Both change in the write transactions that change what they count.
 */
async function keywordFrequencies(
  db: Db,
  phrases: readonly string[],
): Promise<{ df: Map<string, number>; chunks: number; tokens: number }> {
  const totals = await sql<{
    chunks: number;
    tokens: number;
  }>`select chunks, tokens from keyword_totals`.execute(db);
  const df = new Map(phrases.map((p) => [p, 0]));
  const unique = [...df.keys()];
  if (unique.length > 0) {
    const found = await sql<{ term: string; df: number }>`
      select term, df from term_df where term in (${sql.join(unique)})`.execute(db);
    for (const r of found.rows) df.set(r.term, Number(r.df));
  }
  const row = totals.rows[0];
  return { df, chunks: Number(row?.chunks ?? 0), tokens: Number(row?.tokens ?? 0) };
}
