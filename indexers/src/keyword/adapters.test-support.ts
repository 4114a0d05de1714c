import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore, type RelationalStore } from "@conhub/storage";
import { openRelationalFromSpec, reachableRelationalAdapters } from "@conhub/storage/testing";
import { type Kysely, sql } from "kysely";
import { onTestFinished } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { indexerMigrations } from "./migrations.js";
import { openPostgresKeywordIndex } from "./postgres.js";
import { BM25_WEIGHTS } from "./postgres-terms.js";
import { decodeBlock, encodeBlock, MAX_BLOCK } from "./postings.js";
import { forEachChunkColumns, openSqliteKeywordIndex } from "./sqlite.js";

/** A keyword index adapter a contract test runs against. */
export interface KeywordIndexFixture {
  name: "sqlite" | "postgres";
  /** A fresh, migrated, empty index for the current test, closed after it. */
  open(): Promise<OpenedKeywordIndex>;
  /** A fresh, migrated, empty index that lives until `close` (for a `beforeAll`). */
  openUntilClosed(): Promise<OpenedKeywordIndex & { close(): Promise<void> }>;
}

export interface OpenedKeywordIndex {
  index: KeywordIndex;
  store: RelationalStore;
}

function fixture(
  name: KeywordIndexFixture["name"],
  openUntilClosed: KeywordIndexFixture["openUntilClosed"],
): KeywordIndexFixture {
  return {
    name,
    openUntilClosed,
    async open() {
      const opened = await openUntilClosed();
      onTestFinished(() => opened.close());
      return opened;
    },
  };
}

/**
 * SQLite always; PostgreSQL when DATABASE_URL is set (one database per test
 * file, dropped after it, and a schema of its own per test). Call at the top
 * level of a test file or in a `describe`.
 */
export function reachableKeywordIndexes(): KeywordIndexFixture[] {
  const fixtures = [
    fixture("sqlite", async () => {
      const dataDir = await mkdtemp(join(tmpdir(), "conhub-kw-"));
      const store = await openSqliteStore({ dataDir, service: "indexer" });
      const close = async () => {
        await store.close();
        await rm(dataDir, { recursive: true, force: true });
      };
      try {
        await store.migrate(indexerMigrations);
        return { index: await openSqliteKeywordIndex(store), store, close };
      } catch (err) {
        await close();
        throw err;
      }
    }),
  ];
  const postgres = reachableRelationalAdapters().find((a) => a.name === "postgres");
  if (postgres) {
    fixtures.push(
      fixture("postgres", async () => {
        const store = await openRelationalFromSpec(await postgres.backend());
        const close = () => store.close();
        try {
          await store.migrate(indexerMigrations);
          return { index: await openPostgresKeywordIndex(store), store, close };
        } catch (err) {
          await close();
          throw err;
        }
      }),
    );
  }
  return fixtures;
}

/** Rows of the shared tables, for tests that check what a write left behind. */
export async function tableCounts(store: RelationalStore): Promise<{
  documents: number;
  chunks: number;
  symbols: number;
  redactions: number;
  /** Chunks or symbols whose document is gone. */
  orphans: number;
}> {
  const { rows } = await sql<Record<string, number | string>>`
    select (select count(*) from documents) as documents, (select count(*) from chunks) as chunks,
           (select count(*) from symbols) as symbols, (select count(*) from redactions) as redactions,
           (select count(*) from chunks where document_id not in (select id from documents))
           + (select count(*) from symbols where document_id not in (select id from documents)) as orphans`.execute(
    store.db,
  );
  const r = rows[0]!;
  return {
    documents: Number(r.documents),
    chunks: Number(r.chunks),
    symbols: Number(r.symbols),
    redactions: Number(r.redactions),
    orphans: Number(r.orphans),
  };
}

/**
 * SQLite: an FTS5 table of every chunk of the index, `temp.reference_fts`
 * (made anew on each call), its columns the ones the word index counts
 * (`forEachChunkColumns`: file name, directory, symbol path and body through
 * `ftsText`), tokenized by FTS5's own `porter unicode61` — the reference our
 * word index and BM25 are checked against (`bm25(reference_fts, 8, 2, 4, 1)`
 * with the column weights of `BM25_WEIGHTS`). `table`: another name for it (a test
 * making the FTS5 word table of an index from before ADR 0010 names it `chunks_fts`).
 */
export async function ftsReference(store: RelationalStore, table = "temp.reference_fts"): Promise<void> {
  const db = store.db as Kysely<unknown>;
  await sql`drop table if exists ${sql.table(table)}`.execute(db);
  await sql`create virtual table ${sql.table(table)} using fts5(name, dir, symbol, body, tokenize = 'porter unicode61', content = '')`.execute(
    db,
  );
  await forEachChunkColumns(db, async (rows) => {
    await sql`insert into ${sql.table(table)} (rowid, name, dir, symbol, body) values ${sql.join(
      rows.map((r) => sql`(${r.id}, ${r.name}, ${r.dir}, ${r.symbol}, ${r.body})`),
    )}`.execute(db);
  });
}

/**
 * Ways the adapter's own index structures disagree with the chunk rows
 * (empty when consistent). SQLite: one trigram row per chunk, and the word
 * index (postings, document frequencies, totals) as FTS5 counts the chunks
 * (`ftsReference`).
 * PostgreSQL: no postings of a missing chunk, each posting's `doclen` the
 * chunk's `fts_length`, and `keyword_totals` = the chunks' count and tokens.
 */
export async function indexProblems(
  name: KeywordIndexFixture["name"],
  store: RelationalStore,
): Promise<string[]> {
  const problems: string[] = [];
  const one = async (query: ReturnType<typeof sql<{ n: number | string }>>) =>
    Number((await query.execute(store.db)).rows[0]!.n);
  const chunks = await one(sql`select count(*) as n from chunks`);
  if (name === "sqlite") {
    const trigram = await one(sql`select count(*) as n from chunks_trigram`);
    if (trigram !== chunks) problems.push(`chunks_trigram has ${trigram} rows for ${chunks} chunks`);
    // FTS5's own check of the trigram table's segments (0: no content table to compare with).
    const check = await sql`insert into chunks_trigram (chunks_trigram, rank) values ('integrity-check', 0)`
      .execute(store.db)
      .then(
        () => undefined,
        (err: Error) => err.message,
      );
    if (check) problems.push(`chunks_trigram: FTS5 integrity-check says ${check}`);
    await ftsReference(store);
    // keyword_totals (kept by the writer) = FTS5's own count of the rows and their tokens.
    const totals = (
      await sql<{ chunks: number; tokens: number }>`select chunks, tokens from keyword_totals`.execute(
        store.db,
      )
    ).rows[0];
    await sql`create virtual table if not exists temp.check_fts_rows using fts5vocab(temp, reference_fts, row)`.execute(
      store.db,
    );
    await sql`create virtual table if not exists temp.check_fts_instances using fts5vocab(temp, reference_fts, instance)`.execute(
      store.db,
    );
    const tokens = await one(sql`select count(*) as n from temp.check_fts_instances`);
    if (!totals) problems.push("keyword_totals is empty");
    else if (Number(totals.chunks) !== chunks || Number(totals.tokens) !== tokens)
      problems.push(
        `keyword_totals says ${totals.chunks} chunks / ${totals.tokens} tokens, FTS5 counts ${chunks} / ${tokens}`,
      );
    // term_df (kept by the writer) must hold exactly FTS5's own document frequencies of every term a
    // query can ask for (ASCII: other tokens never match a query term), and no zeros.
    const ascii = (term: string) => [...term].every((ch) => ch.charCodeAt(0) < 128);
    const vocab = await sql<{ term: string; doc: number }>`select term, doc from temp.check_fts_rows`.execute(
      store.db,
    );
    const kept = await sql<{ term: string; df: number }>`select term, df from term_df`.execute(store.db);
    const want = new Map(vocab.rows.filter((r) => ascii(r.term)).map((r) => [r.term, Number(r.doc)]));
    const got = new Map(kept.rows.map((r) => [r.term, Number(r.df)]));
    for (const term of new Set([...want.keys(), ...got.keys()])) {
      if (want.get(term) !== got.get(term))
        problems.push(
          `term_df says ${got.get(term) ?? "nothing"} for "${term}", FTS5 counts ${want.get(term) ?? 0} chunks`,
        );
      if (problems.length > 5) break;
    }
    problems.push(...(await postingsProblems(store)));
    return problems;
  }
  const stray = await one(
    sql`select count(*) as n from keyword_postings where chunk_id not in (select id from chunks)`,
  );
  if (stray > 0) problems.push(`${stray} postings of missing chunks`);
  const lengths = await one(
    sql`select count(*) as n from keyword_postings p join chunks c on c.id = p.chunk_id where p.doclen <> c.fts_length`,
  );
  if (lengths > 0) problems.push(`${lengths} postings with a wrong chunk length`);
  const totals = (
    await sql<{ chunks: string; tokens: string; actual_chunks: string; actual_tokens: string }>`
      select t.chunks, t.tokens, (select count(*) from chunks) as actual_chunks,
             (select coalesce(sum(fts_length), 0) from chunks) as actual_tokens
      from keyword_totals t`.execute(store.db)
  ).rows[0];
  if (!totals) problems.push("keyword_totals is empty");
  else if (totals.chunks !== totals.actual_chunks || totals.tokens !== totals.actual_tokens) {
    problems.push(
      `keyword_totals says ${totals.chunks} chunks / ${totals.tokens} tokens, the chunks hold ${totals.actual_chunks} / ${totals.actual_tokens}`,
    );
  }
  const unindexed = await one(
    sql`select count(*) as n from chunks c where c.fts_length > 0 and not exists (select 1 from keyword_postings p where p.chunk_id = c.id)`,
  );
  if (unindexed > 0) problems.push(`${unindexed} chunks without postings`);
  const df = await one(
    sql`select count(*) as n from (select term, count(*) as n from keyword_postings group by term) p
      full join keyword_df f on f.term = p.term where p.n is distinct from f.n`,
  );
  if (df > 0) problems.push(`${df} terms whose keyword_df differs from their postings`);
  return problems;
}

/**
 * `term_postings` (kept by the writer) against FTS5's own index of the same chunks (`ftsReference`, made first): for every
 * term a query can ask for (ASCII), the same chunks, each with its weighted
 * frequency and token count as FTS5 counts them; blocks well formed.
 */
async function postingsProblems(store: RelationalStore): Promise<string[]> {
  const problems: string[] = [];
  const { rows } = await sql<{ term: string; doc: number; col: string; n: number }>`
    select term, doc, col, count(*) as n from temp.check_fts_instances group by term, doc, col`.execute(
    store.db,
  );
  const weights: Record<string, number> = {
    name: BM25_WEIGHTS[0],
    dir: BM25_WEIGHTS[1],
    symbol: BM25_WEIGHTS[2],
    body: BM25_WEIGHTS[3],
  };
  const lengths = new Map<number, number>();
  const expected = new Map<string, Map<number, number>>();
  for (const r of rows) {
    lengths.set(r.doc, (lengths.get(r.doc) ?? 0) + r.n);
    if (![...r.term].every((ch) => ch.charCodeAt(0) < 128)) continue;
    let docs = expected.get(r.term);
    if (!docs) {
      docs = new Map();
      expected.set(r.term, docs);
    }
    docs.set(r.doc, (docs.get(r.doc) ?? 0) + weights[r.col]! * r.n);
  }
  const stored = await sql<{ term: string; first_id: number; data: Uint8Array }>`
    select term, first_id, data from term_postings order by term, first_id`.execute(store.db);
  const actual = new Map<string, Map<number, [number, number]>>();
  let previous: { term: string; last: number } | undefined;
  for (const r of stored.rows) {
    const block = decodeBlock(Number(r.first_id), r.data);
    if (block.ids.length === 0) problems.push(`empty block ${r.term}@${r.first_id}`);
    if (block.ids.length > 2 * MAX_BLOCK)
      problems.push(`block ${r.term}@${r.first_id} holds ${block.ids.length}`);
    if (block.ids[0] !== Number(r.first_id))
      problems.push(`block ${r.term}@${r.first_id} starts at ${block.ids[0]}`);
    const start = previous?.term === r.term ? previous.last : -1;
    if (block.ids.some((id, i) => id <= (i === 0 ? start : block.ids[i - 1]!)))
      problems.push(`block ${r.term}@${r.first_id}: ids out of order`);
    const header = encodeBlock(block);
    if (Buffer.compare(Buffer.from(header), Buffer.from(r.data)) !== 0)
      problems.push(`block ${r.term}@${r.first_id}: header or encoding differs`);
    let docs = actual.get(r.term);
    if (!docs) {
      docs = new Map();
      actual.set(r.term, docs);
    }
    for (const [i, id] of block.ids.entries()) docs.set(id, [block.f[i]!, block.len[i]!]);
    previous = { term: r.term, last: block.ids[block.ids.length - 1] ?? start };
  }
  for (const term of new Set([...expected.keys(), ...actual.keys()])) {
    const want = expected.get(term) ?? new Map<number, number>();
    const got = actual.get(term) ?? new Map<number, [number, number]>();
    for (const [doc, f] of want) {
      const posting = got.get(doc);
      if (!posting) problems.push(`term_postings lacks "${term}" in chunk ${doc}`);
      else if (posting[0] !== f || posting[1] !== lengths.get(doc))
        problems.push(
          `term_postings says f=${posting[0]} len=${posting[1]} for "${term}" in chunk ${doc}, FTS5 counts ${f} / ${lengths.get(doc)}`,
        );
    }
    for (const doc of got.keys())
      if (!want.has(doc)) problems.push(`term_postings has "${term}" in chunk ${doc}, FTS5 does not`);
    if (problems.length > 20) break;
  }
  return problems;
}
