/**
 * The PostgreSQL keyword index (`indexers/src/keyword/postgres.ts`) against
 * the embedded SQLite one, on the same documents: write throughput, storage
 * per chunk, and search/grep latency as the index grows (the corpus is
 * stored again under new paths: 1, 4, then 16 copies), to estimate 1M
 * chunks. Documents are chunked once up front, so only the index is timed.
 *
 *   DATABASE_URL=postgres://… npx tsx bench/keyword-postgres.ts [--corpus=<dir>] [--copies=1,4,16]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { openPostgresStore, openSqliteStore, type RelationalStore } from "@conhub/storage";
import { sql } from "kysely";
import type { KeywordIndex, UpsertInput } from "../indexers/src/index.js";
import { processDocument } from "../indexers/src/index.js";
import { indexerMigrations } from "../indexers/src/keyword/migrations.js";
import { openKeywordIndex } from "../indexers/src/keyword/open.js";
import { percentile } from "./support/measure.js";

function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === "node_modules" || name.startsWith(".") || name === "dist") continue;
      const path = join(dir, name);
      const s = statSync(path);
      if (s.isDirectory()) visit(path);
      else if (s.size < 500_000) out.push(path);
    }
  };
  visit(root);
  return out;
}

const QUERIES = {
  rare: ["parseHttpResponse", "tombstone trigger", "porter stemmer", "reciprocal rank fusion"],
  common: ["error", "return value", "index", "the function returns a string"],
};
const GREPS = ["function \\w+Error", "import .* from", "TODO", "return null", "[Ss]ourceId"];

async function time<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const result = await fn();
  return [result, performance.now() - t];
}

async function latencies(index: KeywordIndex, runs: number) {
  const measure = async (list: string[], fn: (q: string) => Promise<unknown>) => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await time(() => fn(list[i % list.length]!)))[1]);
    ms.sort((a, b) => a - b);
    return `${percentile(ms, 50).toFixed(1)}/${percentile(ms, 95).toFixed(1)}`;
  };
  return {
    rare: await measure(QUERIES.rare, (q) => index.search({ query: q, limit: 10 })),
    common: await measure(QUERIES.common, (q) => index.search({ query: q, limit: 10 })),
    glob: await measure(QUERIES.rare, (q) =>
      index.search({ query: q, limit: 10, filters: { pathGlob: "**/*.md" } }),
    ),
    grep: await measure(GREPS, (p) => index.grep({ pattern: p, limit: 50 })),
  };
}

async function postgresSizes(store: RelationalStore) {
  const { rows } = await sql<{ name: string; bytes: string }>`
    select c.relname as name, pg_total_relation_size(c.oid)::text as bytes from pg_class c
    where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r'`.execute(store.db);
  const postings = await sql<{ n: string }>`select count(*)::text as n from keyword_postings`.execute(
    store.db,
  );
  const gin = await sql<{
    bytes: string;
  }>`select pg_relation_size('chunks_text_trigram')::text as bytes`.execute(store.db);
  return {
    tables: Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)])),
    postings: Number(postings.rows[0]!.n),
    trigram: Number(gin.rows[0]!.bytes),
  };
}

export async function runKeywordPostgresBench(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("Set DATABASE_URL (postgres://…) to run this benchmark.");
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const corpus = resolve(arg("corpus") ?? process.cwd());
  const copies = (arg("copies") ?? "1,4,16").split(",").map(Number);

  const prepared: UpsertInput[] = [];
  const [, processMs] = await time(async () => {
    for (const path of walk(corpus)) {
      const content = readFileSync(path);
      const r = await processDocument({ sourceId: "bench", path: relative(corpus, path), content });
      if (r.document && !r.skipped)
        prepared.push({
          document: r.document,
          chunks: r.chunks,
          symbols: r.symbols,
          redactions: r.redactions,
          bytes: content.length,
        });
    }
  });
  const chunksPerCopy = prepared.reduce((n, d) => n + d.chunks.length, 0);
  const bytesPerCopy = prepared.reduce((n, d) => n + d.bytes, 0);

  const store = async (kind: "sqlite" | "postgres", dir: string) =>
    kind === "sqlite"
      ? openSqliteStore({ dataDir: dir, service: "indexer" })
      : openPostgresStore({ url, service: `bench-kw-${process.pid}` });
  const dir = mkdtempSync(join(tmpdir(), "conhub-bench-kwpg-"));
  const stores = { sqlite: await store("sqlite", dir), postgres: await store("postgres", dir) };
  const lines: string[] = [];
  try {
    const indexes: Record<string, KeywordIndex> = {};
    for (const [kind, s] of Object.entries(stores)) {
      await s.migrate(indexerMigrations);
      indexes[kind] = await openKeywordIndex(s);
      await indexes[kind]!.upsertSource({ id: "bench", root: corpus });
    }
    let stored = 0;
    for (const target of copies) {
      const writeMs: Record<string, number> = { sqlite: 0, postgres: 0 };
      for (; stored < target; stored++) {
        for (const [kind, index] of Object.entries(indexes)) {
          const [, ms] = await time(async () => {
            for (let i = 0; i < prepared.length; i += 100) {
              await index.batch(async (b) => {
                for (const doc of prepared.slice(i, i + 100)) {
                  await b.upsert({
                    ...doc,
                    document: { ...doc.document, path: `copy${stored}/${doc.document.path}` },
                  });
                }
              });
            }
          });
          writeMs[kind]! += ms;
        }
      }
      await sql`analyze`.execute(stores.postgres.db);
      const chunks = chunksPerCopy * target;
      const sizes = await postgresSizes(stores.postgres);
      const sqliteBytes = statSync(join(dir, "indexer.db")).size;
      const lite = await latencies(indexes.sqlite!, 40);
      const pg = await latencies(indexes.postgres!, 40);
      const newChunks = chunksPerCopy * (target - (copies[copies.indexOf(target) - 1] ?? 0));
      const kwBytes =
        (sizes.tables.keyword_postings ?? 0) +
        (sizes.tables.chunks ?? 0) +
        (sizes.tables.documents ?? 0) +
        (sizes.tables.symbols ?? 0);
      lines.push(
        `| ${chunks} | ${(newChunks / (writeMs.sqlite! / 1000)).toFixed(0)} / ${(newChunks / (writeMs.postgres! / 1000)).toFixed(0)} | ` +
          `${(sizes.postings / chunks).toFixed(0)} | ${((sizes.tables.keyword_postings ?? 0) / chunks).toFixed(0)} B | ` +
          `${(sizes.trigram / chunks).toFixed(0)} B | ${(kwBytes / chunks).toFixed(0)} B / ${(sqliteBytes / chunks).toFixed(0)} B | ` +
          `${lite.rare} · ${pg.rare} | ${lite.common} · ${pg.common} | ${lite.glob} · ${pg.glob} | ${lite.grep} · ${pg.grep} |`,
      );
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
  } finally {
    await sql`drop schema if exists ${sql.id(stores.postgres.service.replaceAll("-", "_"))} cascade`.execute(
      stores.postgres.db,
    );
    await stores.postgres.close();
    await stores.sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`## keyword-postgres — ${corpus}\n`);
  console.log(
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; PostgreSQL local. ` +
      `${prepared.length} documents, ${chunksPerCopy} chunks, ${(bytesPerCopy / 2 ** 20).toFixed(1)} MB per copy (chunked once in ${(processMs / 1000).toFixed(1)} s, not timed below). ` +
      `Latencies in ms, p50/p95 SQLite · p50/p95 PostgreSQL, limit 10 (grep: 50 hits). Load average while measuring: ${loadavg()[0]?.toFixed(1)}.\n`,
  );
  console.log(
    "| chunks | write chunks/s (SQLite / PG) | postings per chunk | postings table+indexes per chunk | trigram GIN per chunk | PG keyword tables per chunk / SQLite file per chunk | rare-term search | common-term search | search + path glob | grep |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const line of lines) console.log(line);
}

if (import.meta.url === `file://${process.argv[1]}`) await runKeywordPostgresBench();
