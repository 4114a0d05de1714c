/**
 * Data service sync, end to end: a local git repository of apache/kafka
 * (a shallow clone of the mirror, ≥ 50 MB of files) connected as a git
 * source → cloned by the data service, listed, sent to the indexer in
 * batches through the durable queue, indexed → searchable. Then the latency
 * of an incremental sync after a commit changing 10 files (diff of two
 * commits → 10 documents → searchable), repeated. Auth, indexer and data
 * service in one process (embedded storage; keyword index, no embeddings),
 * as `conhub start` runs them.
 */
import { appendFileSync, existsSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { startPlatform } from "../cli/src/runtime.js";
import { portEnv } from "../test/support/processes.js";
import { benchGit, percentile, treeSize } from "./support/measure.js";

const MIRROR = process.env.BENCH_KAFKA_GIT ?? "/work/.mirror/apache+kafka/repo";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

const git = benchGit;
const pct = (xs: number[], p: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );

export async function runDataSyncBench(): Promise<void> {
  if (!existsSync(MIRROR)) {
    console.error(
      `data-sync: ${MIRROR} is missing (set BENCH_KAFKA_GIT to a git repository of apache/kafka)`,
    );
    return;
  }
  const base = mkdtempSync(join(tmpdir(), "conhub-bench-data-"));
  const work = join(base, "kafka");
  git(base, "clone", "-q", "--depth", "1", `file://${MIRROR}`, work);
  const size = treeSize(work);
  const { env: ports } = await portEnv();
  const platform = await startPlatform({
    targets: ["auth-service", "indexer", "data-service"],
    env: { ...ports, LOG_LEVEL: "warn", CONHUB_DATA_DIR: join(base, "data"), CONHUB_EMBEDDINGS: "none" },
  });
  const auth = `http://127.0.0.1:${platform.ports["auth-service"]}`;
  const data = `http://127.0.0.1:${platform.ports["data-service"]}/api/data`;
  const indexer = `http://127.0.0.1:${platform.ports.indexer}/indexer/api`;
  const json = { "content-type": "application/json" };
  const email = `bench-${Date.now()}@example.com`;
  const password = "correct horse battery staple";
  await fetch(`${auth}/api/auth/register`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  const session = (await (
    await fetch(`${auth}/api/auth/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    })
  ).json()) as { accessToken: string };
  const { key } = (await (
    await fetch(`${auth}/api/auth/api-keys`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ name: "bench", scopes: ["search:read", "sources:read", "sources:write"] }),
    })
  ).json()) as { key: string };
  const h = { ...json, authorization: `Bearer ${key}` };
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few fields of the API's answers.
  const get = async (url: string): Promise<any> => {
    // A keep-alive connection the server closed while the process was busy fails once; retry.
    for (let i = 0; ; i++) {
      try {
        return await (await fetch(url, { headers: h })).json();
      } catch (err) {
        if (i >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const search = async (query: string, sourceId: string) =>
    (
      (await (
        await fetch(`${indexer}/search`, {
          method: "POST",
          headers: h,
          body: JSON.stringify({ query, mode: "keyword", limit: 20, filters: { sourceIds: [sourceId] } }),
        })
      ).json()) as { results: Array<{ path: string }> }
    ).results;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  const waitRun = async (id: string, after: string | null): Promise<any> => {
    for (;;) {
      const s = (await get(`${data}/sources/${id}`)).source;
      if (s.lastRun && s.lastRun.id !== after && !s.currentRun && !s.pendingSync) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  // ------------------------------------------------------------ full sync
  const t0 = performance.now();
  const created = (await (
    await fetch(`${data}/sources`, {
      method: "POST",
      headers: h,
      body: JSON.stringify({ type: "git", name: "kafka", config: { url: work } }),
    })
  ).json()) as { source: { id: string } };
  const id = created.source.id;
  const full = await waitRun(id, null);
  const fullMs = performance.now() - t0;
  if (full.status !== "idle") throw new Error(`full sync failed: ${full.statusMessage}`);
  const searchStarted = performance.now();
  const hits = await search("KafkaProducer", id);
  const searchMs = performance.now() - searchStarted;
  const p = full.lastRun.progress;

  // ------------------------------------------------------------ incremental syncs after 10-file commits
  const javaFiles = git(work, "ls-files", "*.java").split("\n").filter(Boolean);
  const latencies: number[] = [];
  const searchLatencies: number[] = [];
  let found = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const marker = `zqbenchmarker${"abcdefghij"[round]}${Date.now().toString(36).replace(/\d/g, "x")}`;
    for (let i = 0; i < 10; i++) {
      const file = javaFiles[((round * 10 + i) * 37) % javaFiles.length]!;
      appendFileSync(join(work, file), `\n// ${marker} round ${round} file ${i}\n`);
    }
    git(work, "commit", "-q", "-am", `bench round ${round}`);
    const before = (await get(`${data}/sources/${id}`)).source.lastRun.id as string;
    const t = performance.now();
    await fetch(`${data}/sources/${id}/sync`, { method: "POST", headers: h, body: "{}" });
    const s = await waitRun(id, before);
    latencies.push(performance.now() - t);
    if (s.lastRun.progress.changed !== 10)
      throw new Error(`expected 10 changed, got ${JSON.stringify(s.lastRun.progress)}`);
    const st = performance.now();
    if ((await search(marker, id)).length === 10) found++;
    searchLatencies.push(performance.now() - st);
  }
  await platform.stop();
  await rm(base, { recursive: true, force: true });

  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(`## data-sync — git source end to end (clone → searchable), then incremental syncs

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GB. Node ${process.version}.
Auth, indexer and data service in one process, embedded storage (SQLite queue and index), keyword index only
(\`CONHUB_EMBEDDINGS=none\`). Source: a local shallow clone of apache/kafka (${size.files} files, ${mb(size.bytes)} MB),
connected as \`{"type":"git","config":{"url":"<path>"}}\` (the data service clones it with depth 1 over file://).

| step | result |
|---|---|
| full sync: POST /sources → run succeeded (clone, list, ${p.batches} index jobs, all indexed) | ${(fullMs / 1000).toFixed(1)} s |
| files listed / sent / skipped (binary, oversize, secret) | ${p.seen} / ${p.changed} / ${p.skipped} |
| indexed by the indexer / skipped there (lockfile, minified…) / chunks | ${p.indexed} / ${Object.values(p.indexSkipped as Record<string, number>).reduce((a, b) => a + b, 0)} / ${p.chunks} |
| bytes sent | ${mb(p.bytes)} MB (${(p.bytes / 1024 / 1024 / (fullMs / 1000)).toFixed(1)} MB/s end to end) |
| search "KafkaProducer" right after (one source's filter) | ${hits.length} hits in ${Math.round(searchMs)} ms |
| incremental sync after a 10-file commit (POST /sync → run succeeded, searchable), ${ROUNDS} rounds | p50 ${Math.round(pct(latencies, 50))} ms, max ${Math.round(Math.max(...latencies))} ms |
| incremental sync, same rounds | p95 ${Math.round(pct(latencies, 95))} ms, min ${Math.round(Math.min(...latencies))} ms; in order: ${latencies.map((l) => Math.round(l)).join(", ")} ms |
| rounds whose 10 changed files were all found by a search right after | ${found} / ${ROUNDS} (that search: p50 ${Math.round(pct(searchLatencies, 50))} ms, max ${Math.round(Math.max(...searchLatencies))} ms) |
`);
}
