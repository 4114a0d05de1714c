/**
 * Retrieval quality, measured the standard way for code search: queries are
 * the first sentences of doc comments of a real repository, the doc
 * comments are removed from the indexed copy, and each query should find
 * the file the comment came from. MRR@10 at file level (a file's rank is
 * that of its best chunk), beside a plain whole-file BM25 baseline (words
 * split on non-alphanumerics, lower-cased; k1 = 1.2, b = 0.75) on the same
 * queries and the same stripped files.
 *
 * `npm run bench -- retrieval --corpus=<dir> [--queries=300] [--mode=keyword|hybrid]`
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { extname, join, relative, resolve } from "node:path";
import { ingestLocalDirectory, openEmbeddedKeywordIndex } from "../indexers/src/index.js";

const DOC_COMMENT = /\/\*\*([\s\S]*?)\*\//g;
const EXTENSIONS = new Set([
  ".java",
  ".ts",
  ".tsx",
  ".js",
  ".mjs",
  ".kt",
  ".scala",
  ".go",
  ".rs",
  ".php",
  ".c",
  ".h",
  ".cpp",
  ".cs",
]);

interface Query {
  text: string;
  file: string;
}

function arg(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile() && EXTENSIONS.has(extname(entry.name))) yield path;
  }
}

/** The first sentence of a doc comment, as a person would phrase a search. */
function firstSentence(body: string): string | undefined {
  const text = body
    .split("\n")
    .map((l) => l.replace(/^\s*\*\s?/, ""))
    .filter((l) => !/^\s*@/.test(l))
    .join(" ")
    .replace(/\{@\w+\s+([^}]*)\}/g, "$1")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const sentence = text.split(/(?<=[.!?])\s/)[0]?.replace(/[.!?]$/, "");
  if (!sentence) return undefined;
  const words = sentence.split(" ").filter((w) => /[a-z]/i.test(w));
  if (words.length < 4 || words.length > 30) return undefined;
  return sentence;
}

/** Deterministic shuffle (mulberry32), so every run asks the same queries. */
function shuffle<T>(items: T[], seed: number): T[] {
  let a = seed;
  const random = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

/** Plain whole-file BM25: the baseline. */
function bm25Baseline(files: Map<string, string>) {
  const k1 = 1.2;
  const b = 0.75;
  const postings = new Map<string, Map<string, number>>();
  const lengths = new Map<string, number>();
  for (const [path, text] of files) {
    const tokens = words(text);
    lengths.set(path, tokens.length);
    for (const t of tokens) {
      const p = postings.get(t) ?? new Map<string, number>();
      postings.set(t, p);
      p.set(path, (p.get(path) ?? 0) + 1);
    }
  }
  const n = files.size;
  const avg = [...lengths.values()].reduce((x, y) => x + y, 0) / n;
  return (query: string): string[] => {
    const scores = new Map<string, number>();
    for (const term of new Set(words(query))) {
      const p = postings.get(term);
      if (!p) continue;
      const idf = Math.log(1 + (n - p.size + 0.5) / (p.size + 0.5));
      for (const [path, tf] of p) {
        const len = lengths.get(path)!;
        const s = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avg));
        scores.set(path, (scores.get(path) ?? 0) + s);
      }
    }
    return [...scores.entries()]
      .sort((x, y) => y[1] - x[1])
      .slice(0, 10)
      .map(([path]) => path);
  };
}

function reciprocalRank(ranked: readonly string[], target: string): number {
  const at = ranked.slice(0, 10).indexOf(target);
  return at === -1 ? 0 : 1 / (at + 1);
}

export async function runRetrievalBench(): Promise<void> {
  const source = resolve(arg("corpus") ?? process.env.BENCH_CORPUS ?? process.cwd());
  const wanted = Number(arg("queries") ?? 300);
  const work = mkdtempSync(join(tmpdir(), "conhub-bench-mrr-"));
  const corpus = join(work, "corpus");
  try {
    // Queries from the original files; the indexed copy has no doc comments.
    const candidates: Query[] = [];
    const stripped = new Map<string, string>();
    for (const path of walk(source)) {
      if (statSync(path).size > 512 * 1024) continue;
      const rel = relative(source, path).split("\\").join("/");
      const text = readFileSync(path, "utf8");
      for (const m of text.matchAll(DOC_COMMENT)) {
        const sentence = firstSentence(m[1] ?? "");
        if (sentence) candidates.push({ text: sentence, file: rel });
      }
      stripped.set(
        rel,
        text.replace(DOC_COMMENT, (c) => c.replace(/[^\n]/g, "")),
      );
    }
    // One query per distinct sentence (generic ones like "Constructor" repeat across files).
    const counts = new Map<string, number>();
    for (const q of candidates) counts.set(q.text, (counts.get(q.text) ?? 0) + 1);
    const queries = shuffle(
      candidates.filter((q) => counts.get(q.text) === 1),
      42,
    ).slice(0, wanted);
    for (const [rel, text] of stripped) {
      const target = join(corpus, rel);
      cpSync(join(source, rel), target); // creates the directories
      writeFileSync(target, text);
    }

    const baseline = bm25Baseline(stripped);
    const opened = await openEmbeddedKeywordIndex(join(work, "data"));
    await ingestLocalDirectory(opened.index, corpus);
    let ours = 0;
    let base = 0;
    let oursHit10 = 0;
    let baseHit10 = 0;
    for (const q of queries) {
      const hits = await opened.index.search({ query: q.text, limit: 50 });
      const files = [...new Set(hits.map((h) => h.path))];
      const rr = reciprocalRank(files, q.file);
      const brr = reciprocalRank(baseline(q.text), q.file);
      ours += rr;
      base += brr;
      if (rr > 0) oursHit10++;
      if (brr > 0) baseHit10++;
    }
    await opened.close();
    const n = queries.length;
    const out = [
      `### Retrieval quality (MRR@10, file level) — ${new Date().toISOString().slice(0, 10)}`,
      "",
      `Machine: ${cpus().length} cores, Node ${process.version}. Corpus: ${source} (${stripped.size} source files, doc comments removed from the indexed copy). ${n} queries (first sentences of doc comments, distinct, seeded sample of ${candidates.length}).`,
      "",
      "| retriever | MRR@10 | found in top 10 |",
      "|---|---|---|",
      `| whole-file BM25 baseline | ${(base / n).toFixed(3)} | ${((100 * baseHit10) / n).toFixed(1)}% |`,
      `| ConHub keyword (chunk BM25, identifier-aware, path boosts) | ${(ours / n).toFixed(3)} | ${((100 * oursHit10) / n).toFixed(1)}% |`,
      "",
    ];
    process.stdout.write(`${out.join("\n")}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
