/**
 * Auth service: password logins per second (argon2id, the production
 * parameters), JWT verification per request (the shared middleware's local
 * check against the JWKS), and API-key verification with and without the
 * caller's cache. In process (no sockets, no seed ports), on SQLite and the
 * in-memory cache, the one-process defaults.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import {
  type AuthConfig,
  argon2Parameters,
  authConfigShape,
  authMigrations,
  createAuthService,
} from "@conhub/auth-service";
import { parseEnv, platformEnv } from "@conhub/config";
import { createAuthVerifier, createServiceApp, inProcessFetch } from "@conhub/middleware";
import { createMemoryCache, createMemoryRateLimiter, openSqliteStore } from "@conhub/storage";
import { createLogger } from "@conhub/utils";

const seconds = Number(process.env.BENCH_DURATION ?? 5);

interface Result {
  label: string;
  ops: number;
  perSecond: number;
  p50Us: number;
  p99Us: number;
}

/** Runs `op` from `concurrency` loops for `seconds`; returns throughput and latency percentiles. */
async function measure(label: string, concurrency: number, op: () => Promise<unknown>): Promise<Result> {
  for (let i = 0; i < 20; i++) await op(); // warm-up
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await op();
        latencies.push((performance.now() - t) * 1000);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    label,
    ops: latencies.length,
    perSecond: latencies.length / elapsed,
    p50Us: pct(0.5),
    p99Us: pct(0.99),
  };
}

export async function runAuthBench(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "conhub-bench-auth-"));
  const logger = createLogger({ level: "silent" });
  const parsed = parseEnv(
    { ...platformEnv, ...authConfigShape },
    { CONHUB_DATA_DIR: dataDir, AUTH_LOGIN_LIMIT_PER_IP: "100000", AUTH_LOGIN_LIMIT_PER_ACCOUNT: "100000" },
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const config = { ...parsed.config, ports: {}, urls: {} } as unknown as AuthConfig;
  const store = await openSqliteStore({ dataDir, service: "auth-service" });
  await store.migrate(authMigrations);
  const cache = createMemoryCache();
  const rateLimiter = createMemoryRateLimiter();
  const app = createServiceApp({
    name: "auth-service",
    version: "bench",
    logger,
    gatewayPrefix: "/api/auth",
    capabilities: { summary: "bench", available: [], planned: [], issue: null },
    limits: { bodyBytes: 1 << 20, timeoutMs: 30_000 },
    corsOrigins: [],
  });
  const service = await createAuthService({ app, config, store, cache, rateLimiter, logger });
  const post = async (path: string, body: unknown, token?: string) =>
    app.request(path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-real-ip": "192.0.2.1",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });

  const credentials = { email: "bench@example.com", password: "swift quiet harbor lamp" };
  await post("/api/auth/register", credentials);
  const login = async () => {
    const res = await post("/api/auth/login", credentials);
    if (res.status !== 200) throw new Error(`login answered ${res.status}`);
    return (await res.json()) as { accessToken: string };
  };
  const { accessToken } = await login();
  const created = await post("/api/auth/api-keys", { name: "bench", scopes: ["search:read"] }, accessToken);
  const { key } = (await created.json()) as { key: string };

  const fetcher = inProcessFetch("auth-service", (request) => app.fetch(request));
  const verifier = createAuthVerifier({ fetch: fetcher, cache });
  const results: Result[] = [];
  results.push(await measure("password login (1 at a time)", 1, login));
  results.push(await measure("password login (4 concurrent)", 4, login));
  results.push(
    await measure("JWT verification (shared middleware, local JWKS)", 1, () => verifier.verify(accessToken)),
  );
  results.push(
    await measure("API key, no cache (POST /api/auth/verify, SQLite)", 1, async () => {
      const res = await post("/api/auth/verify", { token: key });
      if (res.status !== 200) throw new Error(`verify answered ${res.status}`);
    }),
  );
  results.push(
    await measure("API key, cached (shared middleware, memory cache)", 1, () => verifier.verify(key)),
  );

  await service.stop();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });

  const p = argon2Parameters;
  console.log(`### Auth (${new Date().toISOString().slice(0, 10)})\n`);
  console.log(
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. ` +
      `In process, SQLite + memory cache, ${seconds} s per row. argon2id m=${p.memoryCost} KiB, t=${p.timeCost}, p=${p.parallelism}.\n`,
  );
  console.log("| Operation | ops/s | p50 µs | p99 µs |");
  console.log("|---|---|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.label} | ${Math.round(r.perSecond)} | ${Math.round(r.p50Us)} | ${Math.round(r.p99Us)} |`,
    );
  }
}
