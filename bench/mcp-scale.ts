/**
 * MCP `search` (and `read`, `grep`) latency on a built scale index — the
 * 1M-chunk one of `bench/scale.ts` — through `conhub mcp` in its embedded
 * stdio mode, with the SDK's real `StdioClientTransport`; then the same calls
 * in-process (`IndexerEngine.search`, `KeywordIndex.document`/`grep`) on the
 * same data dir, so that the MCP overhead at that size is the difference.
 *
 * `npm run bench -- mcp-scale --scale-data-dir=<work>/scale-<N>/data [--queries=100] [--models-dir=DIR]
 *  [--wait-minutes=40]` (also `npm run bench -- mcp --scale-data-dir=…`).
 *
 * The query sets are the scale build's (`<scale dir>/keyword.json`: defined
 * identifiers, comment phrases, doc-comment sentences; grep literals);
 * `--queries` is per kind. Hybrid uses the scale build's local synthetic
 * model (`<work>/models`, `SYNTHETIC_MODEL`), passed to both processes as
 * CONHUB_EMBEDDINGS=local, CONHUB_EMBEDDINGS_MODEL and CONHUB_MODELS_DIR, so
 * every hybrid call pays a real query embedding. The usearch store takes a
 * pid lock (one process per store): the bench waits until no other process
 * has the data dir open, and the MCP server and the in-process engine run
 * one after the other, never together — MCP, in-process, MCP again, so a
 * change of the machine's load during the run hits both sides. Nothing is
 * written to the data dir beyond what opening an index does.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { coreEnv, formatProblems, parseEnv, storageEnv } from "@conhub/config";
import { type IndexerEngine, indexerConfigShape, openEmbeddedEngine } from "@conhub/indexer";
import { documentLines } from "@conhub/mcp";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { SYNTHETIC_MODEL } from "./scale.js";
import {
  arg,
  intArg,
  loadAverage,
  machineLine,
  ms,
  repoCommit,
  type Summary,
  summarize,
} from "./support/measure.js";
import type { BenchGrep, BenchQuery } from "./support/queries.js";

type Mode = "keyword" | "hybrid";
const kinds = ["identifier", "phrase", "sentence"] as const;
const LIMIT = 10;
const GREP_LIMIT = 100;

interface Found {
  /** How many results (search) or hits (grep), or lines (read). */
  count: number;
  /** The first result's identity, to check both paths answered the same. */
  first: string | undefined;
}

/** One way of answering the calls: through MCP over stdio, or in-process. */
interface Caller {
  search(query: string, mode: Mode): Promise<Found>;
  read(target: ReadTarget): Promise<Found>;
  grep(pattern: string): Promise<Found>;
  /** CPU time so far (user + system) of the process that answers, in ms. */
  cpuMs(): number;
}

interface ReadTarget {
  sourceId: string;
  path: string;
  startLine: number;
  endLine: number;
}

interface Pass {
  label: string;
  samples: number[];
  found: Found[];
  summary: Summary;
  /** Mean CPU time per call of the answering process (ms). */
  cpuPerCall: number;
}

function log(message: string): void {
  console.error(`[mcp-scale ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** Pids (other than ours) that have any file under `dir` open, from /proc (unreadable processes are skipped). */
function holders(dir: string): number[] {
  const found = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(`${dir}/`)) {
          found.add(pid);
          break;
        }
      } catch {
        // closed meanwhile, or not ours to read
      }
    }
  }
  return [...found];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Waits until no other process has the data dir open and the vector store's pid lock is free. */
async function waitUntilFree(dataDir: string, minutes: number): Promise<void> {
  const deadline = Date.now() + minutes * 60_000;
  const lock = join(dataDir, "indexer", "vectors", "lock");
  for (let n = 0; ; n++) {
    const open = holders(dataDir);
    const owner = existsSync(lock) ? Number.parseInt(readFileSync(lock, "utf8"), 10) : undefined;
    const locked = owner !== undefined && Number.isInteger(owner) && alive(owner);
    if (open.length === 0 && !locked) return;
    if (Date.now() > deadline)
      throw new Error(
        `${dataDir} is still in use (open by ${open.join(", ") || "none"}, lock ${owner}) after ${minutes} min`,
      );
    if (n % 6 === 0)
      log(`${dataDir} is in use (open by pid ${open.join(", ") || "-"}; lock ${owner ?? "-"}): waiting`);
    await new Promise((r) => setTimeout(r, 10_000));
  }
}

/** What both processes get: the embedded data dir, the synthetic local model, usearch, no servers. */
function engineEnv(dataDir: string, modelsDir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const k of ["DATABASE_URL", "REDIS_URL", "QDRANT_URL", "CONHUB_URL", "CONHUB_API_KEY"]) delete env[k];
  return {
    ...env,
    LOG_LEVEL: "warn",
    CONHUB_DATA_DIR: dataDir,
    CONHUB_EMBEDDINGS: "local",
    CONHUB_EMBEDDINGS_MODEL: SYNTHETIC_MODEL,
    CONHUB_MODELS_DIR: modelsDir,
    CONHUB_VECTOR_STORE: "usearch",
  };
}

async function timePass<T>(
  label: string,
  items: readonly T[],
  call: (item: T) => Promise<Found>,
  cpuMs: () => number,
): Promise<Pass> {
  const samples: number[] = [];
  const found: Found[] = [];
  const cpuStart = cpuMs();
  for (const item of items) {
    const started = performance.now();
    found.push(await call(item));
    samples.push(performance.now() - started);
  }
  const cpuPerCall = (cpuMs() - cpuStart) / Math.max(1, items.length);
  const pass = { label, samples, found, summary: summarize(samples), cpuPerCall };
  const s = pass.summary;
  log(
    `${label}: n ${s.n}, p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, p99 ${ms(s.p99)}, max ${ms(s.max)} ms; CPU ${ms(cpuPerCall)} ms/call`,
  );
  return pass;
}

interface Plan {
  queries: Record<(typeof kinds)[number], string[]>;
  greps: string[];
}

interface Run {
  passes: Map<string, Pass>;
  loadBefore: string;
  loadAfter: string;
}

/** Warm-up, then every pass, one call at a time. `reads` are taken from this run's hybrid answers when absent. */
async function runPasses(caller: Caller, plan: Plan, reads: ReadTarget[] | undefined): Promise<Run> {
  const loadBefore = loadAverage();
  const all = kinds.flatMap((k) => plan.queries[k]);
  for (const q of all.filter((_, i) => i % 10 === 0)) {
    await caller.search(q, "keyword");
    await caller.search(q, "hybrid");
  }
  for (const g of plan.greps.filter((_, i) => i % 8 === 0)) await caller.grep(g);
  const passes = new Map<string, Pass>();
  for (const mode of ["keyword", "hybrid"] as const) {
    for (const kind of kinds) {
      const label = `${mode}, ${kind}s`;
      passes.set(
        label,
        await timePass(label, plan.queries[kind], (q) => caller.search(q, mode), caller.cpuMs),
      );
    }
  }
  const targets =
    reads ??
    kinds
      .flatMap((kind) => passes.get(`hybrid, ${kind}s`)!.found)
      .map((f) => f.first)
      .filter((f): f is string => f !== undefined)
      .map((f) => JSON.parse(f) as ReadTarget);
  passes.set("read", await timePass("read", targets, (t) => caller.read(t), caller.cpuMs));
  passes.set("grep", await timePass("grep", plan.greps, (g) => caller.grep(g), caller.cpuMs));
  return { passes, loadBefore, loadAfter: loadAverage() };
}

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU time of another process so far, from /proc/<pid>/stat (clock-tick resolution). */
function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

function text(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const content = result.content as Array<{ type: string; text?: string }>;
  return content.map((c) => c.text ?? "").join("\n");
}

/** The MCP caller: every call a `tools/call` over stdio; tool errors and fallbacks stop the bench. */
function mcpCaller(client: Client, pid: number): Caller {
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = await client.callTool({ name, arguments: args });
    if (result.isError) throw new Error(`${name} ${JSON.stringify(args)} failed: ${text(result)}`);
    return result;
  };
  return {
    cpuMs: () => processCpuMs(pid),
    async search(query, mode) {
      const result = await call("search", { query, mode, limit: LIMIT });
      const structured = result.structuredContent as {
        results: Array<ReadTarget>;
        notice?: string;
      };
      if (structured.notice) throw new Error(`search ${mode} "${query}" fell back: ${structured.notice}`);
      return searchOutcome(structured.results);
    },
    async read(t) {
      const result = await call("read", {
        sourceId: t.sourceId,
        path: t.path,
        startLine: t.startLine,
        endLine: t.endLine,
      });
      const window = result.structuredContent as { startLine: number; endLine: number };
      return { count: window.endLine - window.startLine + 1, first: `${t.path}:${t.startLine}` };
    },
    async grep(pattern) {
      const result = await call("grep", { pattern, limit: GREP_LIMIT });
      const hits = (result.structuredContent as { hits: Array<{ path: string; line: number }> }).hits;
      return { count: hits.length, first: hits[0] ? `${hits[0].path}:${hits[0].line}` : undefined };
    },
  };
}

/** What a search call is compared by: how many results, and where the first one is. */
function searchOutcome(results: ReadonlyArray<ReadTarget>) {
  const top = results[0];
  return {
    count: results.length,
    first: top
      ? JSON.stringify({
          sourceId: top.sourceId,
          path: top.path,
          startLine: top.startLine,
          endLine: top.endLine,
        })
      : undefined,
  };
}

/** The same calls in-process, with the source filter the MCP server's embedded backend adds (the local organization's sources). */
function directCaller(engine: IndexerEngine, sourceIds: string[] | undefined): Caller {
  return {
    cpuMs() {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    },
    async search(query, mode) {
      const response = await engine.search({
        query,
        limit: LIMIT,
        mode,
        ...(sourceIds ? { filters: { sourceIds } } : {}),
      });
      if (response.notice) throw new Error(`search ${mode} "${query}" fell back: ${response.notice}`);
      return searchOutcome(response.results);
    },
    async read(t) {
      const document = await engine.index.document(t.sourceId, t.path);
      if (!document) throw new Error(`no document ${t.sourceId}/${t.path}`);
      // The read tool's default window is 400 lines.
      const lines = documentLines(document.chunks).slice(
        t.startLine - 1,
        Math.min(t.endLine, t.startLine + 399),
      );
      return { count: lines.length, first: `${t.path}:${t.startLine}` };
    },
    async grep(pattern) {
      const result = await engine.index.grep({
        pattern,
        ignoreCase: false,
        limit: GREP_LIMIT,
        ...(sourceIds ? { filters: { sourceIds } } : {}),
      });
      const top = result.hits[0];
      return { count: result.hits.length, first: top ? `${top.path}:${top.line}` : undefined };
    },
  };
}

/** Median of the per-call differences (MCP − direct) over the same items. */
function pairedMedian(a: readonly number[], b: readonly number[]): number {
  return summarize(a.map((x, i) => x - b[i]!)).p50;
}

function sameFirst(a: Pass, b: Pass): string {
  const same = a.found.filter((f, i) => f.first === b.found[i]?.first && f.count === b.found[i]?.count);
  return `${same.length}/${a.found.length}`;
}

export async function runMcpScaleBench(): Promise<void> {
  const given = arg("scale-data-dir");
  if (!given)
    throw new Error(
      "name the built scale index: --scale-data-dir=<work>/scale-<chunks>/data (bench/scale.ts)",
    );
  const dataDir = resolve(given);
  const scaleDir = dirname(dataDir);
  const modelsDir = resolve(arg("models-dir") ?? join(dirname(scaleDir), "models"));
  const perKind = intArg("queries", 100);
  const keywordJson = join(scaleDir, "keyword.json");
  for (const [what, path] of [
    ["indexer.db", join(dataDir, "indexer.db")],
    ["keyword.json of the scale build", keywordJson],
    ["vectors.json of the scale build (hybrid needs the vectors)", join(scaleDir, "vectors.json")],
    ["the synthetic model", join(modelsDir, SYNTHETIC_MODEL)],
  ] as const) {
    if (!existsSync(path)) throw new Error(`missing ${what}: ${path}`);
  }
  const stage = JSON.parse(readFileSync(keywordJson, "utf8")) as {
    chunks: number;
    corpus: string;
    commit: string;
    queries: BenchQuery[];
    greps: BenchGrep[];
  };
  const plan: Plan = {
    queries: {
      identifier: [],
      phrase: [],
      sentence: [],
    },
    greps: stage.greps.filter((g) => g.kind === "literal").map((g) => g.pattern),
  };
  for (const kind of kinds)
    plan.queries[kind] = stage.queries
      .filter((q) => q.kind === kind)
      .slice(0, perKind)
      .map((q) => q.text);

  const env = engineEnv(dataDir, modelsDir);
  await waitUntilFree(dataDir, intArg("wait-minutes", 40));

  const bin = new URL("../cli/bin/conhub.mjs", import.meta.url).pathname;
  const mcpPhase = async (phase: number, reads: ReadTarget[] | undefined) => {
    log(`MCP phase ${phase}: starting conhub mcp --embedded --data-dir ${dataDir} (load ${loadAverage()})`);
    const spawnStart = performance.now();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, "mcp", "--embedded", "--data-dir", dataDir],
      env,
      stderr: "inherit",
    });
    const client = new Client({ name: "bench-mcp-scale", version: "1" });
    const open: Record<string, number> = {};
    let pid: number | null = null;
    let run: Run;
    try {
      await client.connect(transport);
      open.initialize = performance.now() - spawnStart;
      pid = transport.pid;
      if (pid === null) throw new Error("conhub mcp has no pid");
      const t = performance.now();
      const tools = await client.listTools();
      open.listTools = performance.now() - t;
      for (const name of ["search", "read", "grep"]) {
        if (!tools.tools.some((tool) => tool.name === name))
          throw new Error(`conhub mcp has no ${name} tool`);
      }
      const caller = mcpCaller(client, pid);
      const firstQuery = plan.queries.identifier[0] ?? plan.queries.phrase[0]!;
      let s = performance.now();
      await caller.search(firstQuery, "keyword");
      open.firstKeyword = performance.now() - s;
      s = performance.now();
      await caller.search(firstQuery, "hybrid");
      open.firstHybrid = performance.now() - s;
      log(`open: ${JSON.stringify(Object.fromEntries(Object.entries(open).map(([k, v]) => [k, ms(v)])))}`);
      run = await runPasses(caller, plan, reads);
    } finally {
      await client.close();
    }
    // The child must be gone (and its usearch lock released) before anything else opens the store.
    for (let i = 0; pid !== null && alive(pid); i++) {
      if (i > 600) throw new Error(`conhub mcp (pid ${pid}) did not exit`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { run, open };
  };

  // ------------------------------------------------ MCP, in-process, MCP again (load drift hits both sides)
  const first = await mcpPhase(1, undefined);
  const reads = kinds
    .flatMap((kind) => first.run.passes.get(`hybrid, ${kind}s`)!.found)
    .map((f) => f.first)
    .filter((f): f is string => f !== undefined)
    .map((f) => JSON.parse(f) as ReadTarget);

  const parsed = parseEnv(
    { CONHUB_DATA_DIR: coreEnv.CONHUB_DATA_DIR, QDRANT_URL: storageEnv.QDRANT_URL, ...indexerConfigShape },
    env,
  );
  if (!parsed.ok) throw new Error(formatProblems(parsed.problems));
  log(`in-process phase (load ${loadAverage()})`);
  const directOpenStart = performance.now();
  const engine = await openEmbeddedEngine(parsed.config);
  let directRun: Run;
  const directOpenMs = performance.now() - directOpenStart;
  const extra = new Map<string, Pass>();
  try {
    const sourceIds = (await engine.index.sources("local")).map((s) => s.id);
    const caller = directCaller(engine, sourceIds);
    directRun = await runPasses(caller, plan, reads);
    // Hybrid taken apart, in-process only: the keyword side at hybrid's depth, and hybrid without the source filter.
    const all = kinds.flatMap((k) => plan.queries[k]);
    const atDepth =
      (mode: "keyword" | "vector", filters: { sourceIds: string[] } | undefined) => async (q: string) => {
        const r = await engine.search({ query: q, limit: 30, mode, ...(filters ? { filters } : {}) });
        return { count: r.results.length, first: undefined };
      };
    const unfiltered = directCaller(engine, undefined);
    const passes: Array<[string, string, (q: string) => Promise<Found>]> = [
      [
        "keyword at hybrid's depth (limit 30), source filter",
        "keyword, limit 30",
        atDepth("keyword", { sourceIds }),
      ],
      ["hybrid without the source filter", "hybrid, no filter", (q) => unfiltered.search(q, "hybrid")],
      [
        "vector side alone at hybrid's depth (embedding + usearch + chunksById, limit 30), source filter",
        "vector 30, filter",
        atDepth("vector", { sourceIds }),
      ],
      [
        "vector side alone at hybrid's depth, without the source filter",
        "vector 30, no filter",
        atDepth("vector", undefined),
      ],
      ["keyword without the source filter", "keyword, no filter", (q) => unfiltered.search(q, "keyword")],
    ];
    for (const [label, name, run] of passes) extra.set(label, await timePass(name, all, run, caller.cpuMs));
  } finally {
    await engine.close();
  }
  const second = await mcpPhase(2, reads);

  // ------------------------------------------------ report
  const mergedPass = (run: Run, mode: Mode): Pass => {
    const parts = kinds.map((k) => run.passes.get(`${mode}, ${k}s`)!);
    const samples = parts.flatMap((p) => p.samples);
    const cpu = parts.reduce((sum, p) => sum + p.cpuPerCall * p.samples.length, 0);
    return {
      label: mode,
      samples,
      found: parts.flatMap((p) => p.found),
      summary: summarize(samples),
      cpuPerCall: cpu / Math.max(1, samples.length),
    };
  };
  for (const run of [first.run, directRun, second.run]) {
    for (const mode of ["keyword", "hybrid"] as const) run.passes.set(`${mode}, all`, mergedPass(run, mode));
  }
  const rows: string[] = [];
  const row = (label: string, key: string) => {
    const m1 = first.run.passes.get(key)!;
    const m2 = second.run.passes.get(key)!;
    const d = directRun.passes.get(key)!;
    const a = summarize([...m1.samples, ...m2.samples]);
    const b = d.summary;
    // Per query: the mean of its two MCP calls minus its in-process call.
    const overhead = pairedMedian(
      m1.samples.map((x, i) => (x + m2.samples[i]!) / 2),
      d.samples,
    );
    const cpu = (m1.cpuPerCall + m2.cpuPerCall) / 2;
    rows.push(
      `| ${label} | ${b.n} | ${ms(a.p50)} | ${ms(a.p95)} | ${ms(a.p99)} | ${ms(a.max)} | ${ms(m1.summary.p50)} / ${ms(m2.summary.p50)} | ${ms(b.p50)} | ${ms(b.p95)} | ${ms(b.p99)} | ${ms(b.max)} | ${ms(overhead)} | ${ms(cpu)} / ${ms(d.cpuPerCall)} | ${sameFirst(m1, d)}, ${sameFirst(m2, d)} |`,
    );
  };
  for (const mode of ["keyword", "hybrid"] as const) {
    row(`**\`search\` ${mode}**, all`, `${mode}, all`);
    for (const kind of kinds) row(`\`search\` ${mode}, ${kind}s`, `${mode}, ${kind}s`);
  }
  row("`read` of each hybrid top result (its line range)", "read");
  row(`\`grep\` literal, limit ${GREP_LIMIT}`, "grep");
  const extraRows = [...extra].map(
    ([label, p]) =>
      `| ${label} | ${p.summary.n} | ${ms(p.summary.p50)} | ${ms(p.summary.p95)} | ${ms(p.summary.p99)} | ${ms(p.summary.max)} | ${ms(p.cpuPerCall)} |`,
  );

  const day = new Date().toISOString().slice(0, 10);
  const openLine = (o: Record<string, number>) =>
    `spawn → \`initialize\` answered ${ms(o.initialize!)} ms, \`tools/list\` ${ms(o.listTools!)} ms, first \`search\` keyword ${ms(o.firstKeyword!)} ms, first hybrid (loads the model and the usearch file) ${ms(o.firstHybrid!)} ms`;
  const lines = [
    `### ${day} — search on the ${stage.chunks.toLocaleString("en")}-chunk index (stdio, embedded)`,
    "",
    `\`npm run bench -- mcp-scale --scale-data-dir=${dataDir}${perKind !== 100 ? ` --queries=${perKind}` : ""}\` (\`bench/mcp-scale.ts\`). Machine: ${machineLine()}. Code ${repoCommit()} (index built with ${stage.commit} from ${stage.corpus}).`,
    `Load average (1/5/15 min), before → after: MCP run 1 ${first.run.loadBefore} → ${first.run.loadAfter}; in-process ${directRun.loadBefore} → ${directRun.loadAfter}; MCP run 2 ${second.run.loadBefore} → ${second.run.loadAfter}.`,
    "",
    `Open: run 1 ${openLine(first.open)}; run 2 ${openLine(second.open)}. In-process engine open ${ms(directOpenMs)} ms (vectors open on first hybrid use).`,
    "",
    "| call | queries | MCP p50 ms | p95 | p99 | max | MCP p50 run 1 / run 2 | in-process p50 ms | p95 | p99 | max | MCP overhead, median ms | CPU ms per call: MCP server / in-process | same answer (run 1, run 2) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    "| in-process only, hybrid taken apart (same queries, limit 10 unless said) | queries | p50 ms | p95 | p99 | max | CPU ms per call |",
    "|---|---|---|---|---|---|---|",
    ...extraRows,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await runMcpScaleBench();
