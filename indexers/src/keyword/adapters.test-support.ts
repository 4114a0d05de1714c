import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore, type RelationalStore } from "@conhub/storage";
import { openRelationalFromSpec, reachableRelationalAdapters } from "@conhub/storage/testing";
import { sql } from "kysely";
import { onTestFinished } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { indexerMigrations } from "./migrations.js";
import { openPostgresKeywordIndex } from "./postgres.js";
import { openSqliteKeywordIndex } from "./sqlite.js";

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
 * Ways the adapter's own index structures disagree with the chunk rows
 * (empty when consistent). SQLite: one row per chunk in both FTS tables.
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
    const fts = await one(sql`select count(*) as n from chunks_fts`);
    const trigram = await one(sql`select count(*) as n from chunks_trigram`);
    if (fts !== chunks) problems.push(`chunks_fts has ${fts} rows for ${chunks} chunks`);
    if (trigram !== chunks) problems.push(`chunks_trigram has ${trigram} rows for ${chunks} chunks`);
    // term_df (kept by the writer) must hold exactly FTS5's own document frequencies, and no zeros.
    await sql`create virtual table if not exists temp.check_fts_rows using fts5vocab(main, chunks_fts, row)`.execute(
      store.db,
    );
    const wrong = await sql<{ term: string; df: number | null; doc: number | null }>`
      select v.term, t.df, v.doc from temp.check_fts_rows v left join term_df t on t.term = v.term
      where t.df is null or t.df <> v.doc
      union all
      select t.term, t.df, null from term_df t where t.term not in (select term from temp.check_fts_rows)
      limit 5`.execute(store.db);
    for (const r of wrong.rows)
      problems.push(`term_df says ${r.df ?? "nothing"} for "${r.term}", FTS5 counts ${r.doc ?? 0} chunks`);
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
  return problems;
}
