/**
 * MCP service: tool-call overhead (p50/p99) over Streamable HTTP, directly to
 * the MCP service's port and through nginx with the committed
 * `nginx/nginx.conf` (upstream addresses pointed at this run's free ports).
 * Auth service, indexer and MCP service run in this process on free ports;
 * a small index (60 documents) is built through the indexer's API. Calls:
 * `list_sources` (protocol, auth and one indexer round trip) and `search`
 * (keyword mode, small index), with an API key (verified once, then cached)
 * and with an access token (verified locally against the JWKS on every call).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { type TargetName, targetCatalog } from "@conhub/config";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startPlatform } from "../cli/src/runtime.js";
import { findNginx, localNginxConfig } from "../test/support/nginx.js";
import { freePorts, tempDir } from "../test/support/processes.js";
import { percentile } from "./support/measure.js";

const iterations = Number(process.env.BENCH_ITERATIONS ?? 300);
const json = { "content-type": "application/json" };
const password = "correct horse battery staple";

async function must(res: Response, what: string): Promise<unknown> {
  const body = await res.json();
  if (!res.ok) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Registers, signs in and creates an API key (search:read, sources:write) through the auth API. */
async function signUp(authBase: string, email: string): Promise<{ key: string; jwt: string }> {
  await must(
    await fetch(`${authBase}/api/auth/register`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    }),
    "register",
  );
  const session = (await must(
    await fetch(`${authBase}/api/auth/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    }),
    "login",
  )) as { accessToken: string };
  const created = (await must(
    await fetch(`${authBase}/api/auth/api-keys`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ name: "bench", scopes: ["search:read", "sources:read", "sources:write"] }),
    }),
    "api key",
  )) as { key: string };
  return { key: created.key, jwt: session.accessToken };
}

async function indexSmall(indexerBase: string, key: string): Promise<void> {
  const upserts = Array.from({ length: 60 }, (_, i) => ({
    path: `src/module${i % 6}/file${i}.ts`,
    content: `/** Retries request ${i} with exponential backoff. */\nexport function retry${i}(attempts: number): number {\n  return attempts * ${i};\n}\n`,
  }));
  const queued = (await must(
    await fetch(`${indexerBase}/indexer/api/index`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${key}` },
      body: JSON.stringify({ sourceId: "bench-repo", upserts }),
    }),
    "index",
  )) as { jobId: string };
  for (let i = 0; i < 600; i++) {
    const job = (await must(
      await fetch(`${indexerBase}/indexer/api/jobs/${queued.jobId}`, {
        headers: { authorization: `Bearer ${key}` },
      }),
      "job",
    )) as { state: string; error: string | null };
    if (job.state === "completed") return;
    if (job.state === "failed") throw new Error(`index job failed: ${job.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("index job did not finish");
}

/** The committed nginx.conf, runnable here, its upstreams pointed at this run's ports. */
async function startNginx(
  binary: string,
  ports: Partial<Record<TargetName, number>>,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const [port] = await freePorts(1);
  const prefix = join(tempDir("conhub-bench-mcp-nginx-"), "nginx");
  mkdirSync(prefix, { recursive: true });
  let conf = localNginxConfig(port!, prefix);
  for (const [name, actual] of Object.entries(ports)) {
    const committed = targetCatalog[name as TargetName].port;
    conf = conf.replace(
      new RegExp(`(server\\s+127\\.0\\.0\\.1:)${committed}\\b`),
      (_m, head: string) => `${head}${actual}`,
    );
  }
  const confPath = join(prefix, "nginx.conf");
  writeFileSync(confPath, conf);
  execFileSync(binary, ["-t", "-q", "-p", prefix, "-c", confPath], { stdio: "pipe" });
  const child: ChildProcess = spawn(binary, ["-p", prefix, "-c", confPath, "-g", "daemon off;"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port: port!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGQUIT");
      await exited;
    },
  };
}

/**
 * p50/p99 of `name` on every route, the routes' calls interleaved (A, B, A, B…)
 * so that a busy machine slows every route alike.
 */
async function measure(
  urls: string[],
  token: string,
  name: string,
  args: Record<string, unknown>,
): Promise<Array<{ p50: number; p99: number }>> {
  const clients: Client[] = [];
  try {
    for (const url of urls) {
      const client = new Client({ name: "bench", version: "1" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      clients.push(client);
    }
    const times = clients.map(() => [] as number[]);
    for (let i = -10; i < iterations; i++) {
      for (const [k, client] of clients.entries()) {
        const started = performance.now();
        const result = await client.callTool({ name, arguments: args });
        if (i >= 0) times[k]!.push(performance.now() - started);
        if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
      }
    }
    return times.map((t) => {
      t.sort((a, b) => a - b);
      return { p50: percentile(t, 50), p99: percentile(t, 99) };
    });
  } finally {
    for (const client of clients) await client.close();
  }
}

export async function runMcpBench(): Promise<void> {
  // `--scale-data-dir=…`: `search` on a built scale index over stdio instead (bench/mcp-scale.ts).
  if (process.argv.some((a) => a.startsWith("--scale-data-dir="))) {
    await (await import("./mcp-scale.js")).runMcpScaleBench();
    return;
  }
  const base = tempDir("conhub-bench-mcp-");
  const free = await freePorts(3);
  const targets: TargetName[] = ["auth-service", "indexer", "mcp-service"];
  const env: Record<string, string | undefined> = {
    ...process.env,
    LOG_LEVEL: "warn",
    CONHUB_DATA_DIR: join(base, "data"),
    CONHUB_EMBEDDINGS: "none",
  };
  targets.forEach((name, i) => {
    env[targetCatalog[name].portVar] = String(free[i]);
    env[targetCatalog[name].urlVar] = `http://127.0.0.1:${free[i]}`;
  });
  const loadBefore = loadavg()[0]!;
  const platform = await startPlatform({ targets, gateway: false, env });
  const nginxBinary = findNginx();
  const nginx = nginxBinary ? await startNginx(nginxBinary, platform.ports) : undefined;
  if (!nginx) console.error("nginx not installed: skipping the nginx rows (apt-get install -y nginx)");
  const rows: string[] = [];
  try {
    const auth = `http://127.0.0.1:${platform.ports["auth-service"]}`;
    const caller = await signUp(auth, `bench-${Date.now()}@example.com`);
    await indexSmall(`http://127.0.0.1:${platform.ports.indexer}`, caller.key);
    const routes: Array<[string, string]> = [
      ["direct to the MCP port", `http://127.0.0.1:${platform.ports["mcp-service"]}/mcp`],
    ];
    if (nginx) routes.push(["through nginx", `http://127.0.0.1:${nginx.port}/mcp`]);
    const calls: Array<[string, Record<string, unknown>, string]> = [
      ["list_sources", {}, "`list_sources`"],
      [
        "search",
        { query: "retry with exponential backoff", mode: "keyword", limit: 5 },
        "`search` keyword, 60 docs",
      ],
    ];
    const credentials: Array<[string, string]> = [
      ["API key", caller.key],
      ["access token", caller.jwt],
    ];
    for (const [callName, args, callLabel] of calls) {
      for (const [credLabel, token] of credentials) {
        const results = await measure(
          routes.map(([, url]) => url),
          token,
          callName,
          args,
        );
        for (const [k, [routeLabel]] of routes.entries()) {
          const r = results[k]!;
          rows.push(
            `| ${callLabel} | ${credLabel} | ${routeLabel} | ${iterations} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
          );
        }
      }
    }
  } finally {
    await nginx?.stop();
    await platform.stop();
  }
  const loadAfter = loadavg()[0]!;
  const lines = [
    "## mcp — MCP service tool-call overhead over Streamable HTTP, direct and through nginx",
    "",
    `### ${new Date().toISOString().slice(0, 10)}`,
    "",
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (other work was running on the machine).`,
    "Auth service, indexer and MCP service in one process (SQLite, no embeddings), nginx with the committed nginx.conf in front of the MCP port.",
    "One SDK client per route, calls one after another after 10 warm-up calls, the routes' calls interleaved (direct, nginx, direct…) so load hits both alike; stateless Streamable HTTP (each call is one POST that builds a fresh MCP server, authenticates and calls the indexer over HTTP with the caller's credential).",
    "",
    "| Call | credential | route | calls | p50 ms | p99 ms |",
    "|---|---|---|---|---|---|",
    ...rows,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
