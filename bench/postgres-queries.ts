/**
 * Keyword search latency on the PostgreSQL adapter with the scale
 * benchmark's queries (`support/queries.ts`: symbol names, comment phrases,
 * doc-comment sentences), one at a time through `KeywordIndex.search`,
 * limit 10. The corpus is chunked once and stored through the port
 * (`support/scale-up.ts`, `--chunks` in all), then `VACUUM ANALYZE`d as
 * autovacuum would leave it; `--measure-only` reuses what a previous run
 * stored in the same database.
 *
 *   DATABASE_URL=postgres://…/db npx tsx bench/postgres-queries.ts --corpus=<dir> [--chunks=N] [--queries=100] [--measure-only]
 *
 * It writes the schema `indexer` of that database: use a database of its own.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPostgresStore } from "@conhub/storage";
import { sql } from "kysely";
import { indexerMigrations } from "../indexers/src/keyword/migrations.js";
import { openKeywordIndex } from "../indexers/src/keyword/open.js";
import { processCorpus } from "./support/corpus.js";
import { arg, flag, intArg, machineLine, summarize } from "./support/measure.js";
import { type BenchQuery, deriveQueries } from "./support/queries.js";
import { scaleUp } from "./support/scale-up.js";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("Set DATABASE_URL to a PostgreSQL database of its own for this benchmark.");
const corpus = arg("corpus") ?? process.cwd();
const perKind = intArg("queries", 100);
const queriesFile = join(tmpdir(), "conhub-postgres-queries.json");
const store = await openPostgresStore({ url, service: "indexer" });
await store.migrate(indexerMigrations);
const index = await openKeywordIndex(store);
let built = "";
if (!flag("measure-only")) {
  const processed = await processCorpus(corpus, { sourceId: "scale" });
  writeFileSync(queriesFile, JSON.stringify(deriveQueries(processed.documents, perKind)));
  const target = intArg("chunks", processed.chunks);
  const started = performance.now();
  await scaleUp(index, processed, { sourceId: "scale", target });
  const seconds = (performance.now() - started) / 1000;
  built = `stored ${target} chunks in ${seconds.toFixed(0)} s (${(target / seconds).toFixed(0)} chunks/s); `;
  await sql`vacuum analyze`.execute(store.db);
}
const queries = JSON.parse(readFileSync(queriesFile, "utf8")) as BenchQuery[];
const chunks = (await index.stats()).chunks;
console.log(`## postgres-queries — ${corpus}\n\n${machineLine()}; ${built}${chunks} chunks.\n`);
console.log("| queries | n | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|");
for (const kind of ["identifier", "phrase", "sentence"] as const) {
  const times: number[] = [];
  for (const q of queries.filter((q) => q.kind === kind).slice(0, perKind)) {
    const started = performance.now();
    await index.search({ query: q.text, limit: 10 });
    times.push(performance.now() - started);
  }
  const s = summarize(times);
  console.log(`| ${kind}s | ${s.n} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.max.toFixed(1)} |`);
}
await store.close();
