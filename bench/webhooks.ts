/**
 * Webhook to searchable: a local clone of apache/kafka (≥ 50 MB of files)
 * connected as a git source, fully synced; then 20 pushes of 1 to 10 changed
 * files, each announced by a correctly signed GitHub push webhook posted to
 * the gateway. Measured from the webhook's POST to the moment a keyword
 * search finds the new content in every changed file. Auth, indexer, data
 * service and webhook service in one process with the one-process gateway,
 * embedded storage, keyword index only (no embeddings).
 */
import { createHmac, randomUUID } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { startPlatform } from "../cli/src/runtime.js";
import { portEnv } from "../test/support/processes.js";
import { benchGit, percentile, treeSize } from "./support/measure.js";

const MIRROR = process.env.BENCH_KAFKA_GIT ?? "/work/.mirror/apache+kafka/repo";
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);

const git = benchGit;
const pct = (xs: number[], p: number) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );

export async function runWebhooksBench(): Promise<void> {
  if (!existsSync(MIRROR)) {
    console.error(`webhooks: ${MIRROR} is missing (set BENCH_KAFKA_GIT to a git repository of apache/kafka)`);
    return;
  }
  const base = mkdtempSync(join(tmpdir(), "conhub-bench-webhooks-"));
  const work = join(base, "kafka");
  git(base, "clone", "-q", "--depth", "1", `file://${MIRROR}`, work);
  const size = treeSize(work);
  const { env: ports } = await portEnv();
  const platform = await startPlatform({
    targets: ["auth-service", "indexer", "data-service", "webhook-service"],
    gateway: true,
    env: { ...ports, LOG_LEVEL: "warn", CONHUB_DATA_DIR: join(base, "data"), CONHUB_EMBEDDINGS: "none" },
  });
  const gateway = `http://127.0.0.1:${platform.ports.gateway}`;
  const json = { "content-type": "application/json" };
  const email = `bench-${Date.now()}@example.com`;
  const password = "correct horse battery staple";
  await fetch(`${gateway}/api/auth/register`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email, password }),
  });
  const session = (await (
    await fetch(`${gateway}/api/auth/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    })
  ).json()) as { accessToken: string };
  const { key } = (await (
    await fetch(`${gateway}/api/auth/api-keys`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({
        name: "bench",
        scopes: ["search:read", "sources:read", "sources:write", "admin"],
      }),
    })
  ).json()) as { key: string };
  const h = { ...json, authorization: `Bearer ${key}` };
  // biome-ignore lint/suspicious/noExplicitAny: the bench reads a few fields of the API's answers.
  const get = async (path: string): Promise<any> => {
    for (let i = 0; ; i++) {
      try {
        return await (await fetch(`${gateway}${path}`, { headers: h })).json();
      } catch (err) {
        if (i >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const search = async (query: string, sourceId: string) =>
    (
      (await (
        await fetch(`${gateway}/indexer/api/search`, {
          method: "POST",
          headers: h,
          body: JSON.stringify({ query, mode: "keyword", limit: 50, filters: { sourceIds: [sourceId] } }),
        })
      ).json()) as { results: Array<{ path: string }> }
    ).results;

  // ------------------------------------------------------------ the source, fully synced
  const t0 = performance.now();
  const created = (await (
    await fetch(`${gateway}/api/data/sources`, {
      method: "POST",
      headers: h,
      body: JSON.stringify({ type: "git", name: "kafka", config: { url: work } }),
    })
  ).json()) as { source: { id: string; webhook: { secret: string } } };
  const id = created.source.id;
  const secret = created.source.webhook.secret;
  for (;;) {
    const s = (await get(`/api/data/sources/${id}`)).source;
    if (s.lastRun && !s.currentRun && !s.pendingSync) {
      if (s.status !== "idle") throw new Error(`full sync failed: ${s.statusMessage}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const fullMs = performance.now() - t0;

  // ------------------------------------------------------------ 20 pushes of 1–10 files, each announced by a webhook
  const javaFiles = git(work, "ls-files", "*.java").split("\n").filter(Boolean);
  const toSearchable: number[] = [];
  const answered: number[] = [];
  const processing: number[] = [];
  const sizes: number[] = [];
  const branch = git(work, "rev-parse", "--abbrev-ref", "HEAD");
  let before = git(work, "rev-parse", "HEAD");
  for (let round = 0; round < ROUNDS; round++) {
    const n = 1 + ((round * 7) % 10);
    const marker = `zqhook${"abcdefghijklmnopqrstuvwxyz"[round % 26]}${Date.now().toString(36).replace(/\d/g, "x")}`;
    const modified: string[] = [];
    const added: string[] = [];
    for (let i = 0; i < n; i++) {
      // Every third round, one of the files is new; the rest are edits of existing Java files.
      if (round % 3 === 0 && i === 0) {
        const path = `bench/hooks/Round${round}.java`;
        mkdirSync(join(work, "bench/hooks"), { recursive: true });
        writeFileSync(join(work, path), `// ${marker} new file of round ${round}\nclass Round${round} {}\n`);
        added.push(path);
        continue;
      }
      const file = javaFiles[((round * 10 + i) * 37) % javaFiles.length]!;
      appendFileSync(join(work, file), `\n// ${marker} round ${round} file ${i}\n`);
      modified.push(file);
    }
    git(work, "add", "-A");
    git(work, "commit", "-q", "-m", `bench round ${round}`);
    const after = git(work, "rev-parse", "HEAD");
    const body = JSON.stringify({
      ref: `refs/heads/${branch}`,
      before,
      after,
      created: false,
      deleted: false,
      forced: false,
      commits: [{ id: after, message: `bench round ${round}`, added, modified, removed: [] }],
      head_commit: { id: after },
      repository: { full_name: "apache/kafka", default_branch: branch },
    });
    before = after;
    const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    const t = performance.now();
    const res = await fetch(`${gateway}/api/webhooks/github/${id}`, {
      method: "POST",
      headers: {
        ...json,
        "x-github-event": "push",
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": signature,
      },
      body,
    });
    answered.push(performance.now() - t);
    if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
    const { id: deliveryId } = (await res.json()) as { id: string };
    const deadline = Date.now() + 120_000;
    for (;;) {
      const hits = new Set((await search(marker, id)).map((r) => r.path));
      if (hits.size >= n) break;
      if (Date.now() > deadline)
        throw new Error(`round ${round}: ${hits.size}/${n} files searchable after 120 s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    toSearchable.push(performance.now() - t);
    sizes.push(n);
    const delivery = (await get(`/api/webhooks/deliveries/${deliveryId}`)).delivery;
    if (delivery.status !== "processed") throw new Error(`delivery ${JSON.stringify(delivery)}`);
    processing.push(delivery.latencyMs);
    // Let the source go idle before the next push, so each round is measured alone.
    for (;;) {
      const s = (await get(`/api/data/sources/${id}`)).source;
      if (!s.currentRun && !s.pendingSync) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const load = loadavg().map((l) => l.toFixed(1));
  await platform.stop();
  await rm(base, { recursive: true, force: true });

  const ms = (x: number) => `${Math.round(x).toLocaleString("en")} ms`;
  console.log(`## webhooks — GitHub push webhook → searchable

Machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GB. Node ${process.version}; load average at the end ${load.join(" / ")}.
Auth, indexer, data service and webhook service in one process behind the one-process gateway, embedded storage,
keyword index only (\`CONHUB_EMBEDDINGS=none\`). Source: a local shallow clone of apache/kafka (${size.files} files,
${(size.bytes / 1024 / 1024).toFixed(1)} MB) as a git source; full sync ${(fullMs / 1000).toFixed(1)} s. Then ${ROUNDS} commits of ${Math.min(...sizes)}–${Math.max(...sizes)} changed files
(edits of Java files, a new file every third round), each followed by a signed \`push\` webhook to
\`POST /api/webhooks/github/<sourceId>\`; measured until a keyword search finds the commit's marker in every changed file.

| measure (${ROUNDS} pushes) | p50 | p95 | max |
|---|---|---|---|
| webhook POST → new content searchable in every changed file | ${ms(pct(toSearchable, 50))} | ${ms(pct(toSearchable, 95))} | ${ms(Math.max(...toSearchable))} |
| webhook POST answered (verified, logged, queued) | ${ms(pct(answered, 50))} | ${ms(pct(answered, 95))} | ${ms(Math.max(...answered))} |
| delivery received → incremental sync requested (delivery log latency) | ${ms(pct(processing, 50))} | ${ms(pct(processing, 95))} | ${ms(Math.max(...processing))} |
`);
}
