import { existsSync } from "node:fs";
import { join } from "node:path";
import { type TargetName, targetCatalog } from "@conhub/config";
import { dashboardDir } from "@conhub/frontend";
import { redactUrl } from "@conhub/utils";
import Database from "better-sqlite3";
import { Redis } from "ioredis";
import pg from "pg";
import { loadConfig } from "../config.js";
import { checkDataDir, portIsFree } from "../preflight.js";
import { loadTargetModule, resolveTargets, UnknownTargetError } from "../targets.js";

type Level = "ok" | "warn" | "fail" | "info";
interface Finding {
  area: string;
  level: Level;
  message: string;
}

const icons: Record<Level, string> = { ok: "✔", warn: "!", fail: "✘", info: "·" };

/** `conhub doctor`: what works on this machine, what does not and why, and what each target can do today. */
export async function runDoctor(targetSpec: string, json: boolean): Promise<number> {
  const findings: Finding[] = [];
  const add = (area: string, level: Level, message: string) => findings.push({ area, level, message });

  let targets: TargetName[] = [];
  try {
    targets = resolveTargets(targetSpec);
  } catch (err) {
    if (!(err instanceof UnknownTargetError)) throw err;
    add("targets", "fail", err.message);
  }
  const loaded = await loadConfig(targets, process.env);
  if (!loaded.ok) {
    for (const p of loaded.problems) add("config", "fail", `${p.variable}: ${p.message}`);
    return report(findings, json);
  }
  const config = loaded.config;
  add("config", "ok", `configuration valid for ${targets.length} target(s) (NODE_ENV=${config.NODE_ENV})`);

  const dirProblems = await checkDataDir(config.CONHUB_DATA_DIR);
  if (dirProblems.length > 0) for (const p of dirProblems) add("data dir", "fail", p.message);
  else add("data dir", "ok", `${config.CONHUB_DATA_DIR} is writable`);

  const listeners: Array<{ name: string; variable: string; port: number }> = targets.map((t) => ({
    name: t,
    variable: targetCatalog[t].portVar,
    port: config.ports[t],
  }));
  listeners.push({ name: "gateway", variable: "GATEWAY_PORT", port: config.GATEWAY_PORT });
  await Promise.all(
    listeners.map(async (l) => {
      if (await portIsFree(l.port, config.CONHUB_HOST)) {
        add("ports", "ok", `${l.name} port ${l.port} is free`);
        return;
      }
      const running = await conhubAnswers(l.port);
      if (running)
        add("ports", "info", `${l.name} port ${l.port} is served by a running ConHub (${running})`);
      else
        add(
          "ports",
          "fail",
          `${l.name} port ${l.port} (${l.variable}) is taken by another program: lsof -i :${l.port}`,
        );
    }),
  );

  // Storage: which adapters are embedded and which external, and whether each answers.
  if (config.DATABASE_URL) {
    const where = redactUrl(config.DATABASE_URL);
    const client = new pg.Client({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      const version = await client.query<{ v: string }>("show server_version");
      const vector = await client.query("select 1 from pg_available_extensions where name = 'vector'");
      add(
        "relational",
        "ok",
        `PostgreSQL ${version.rows[0]?.v} at ${where} (external), one schema per service`,
      );
      if (vector.rowCount === 0) {
        add(
          "relational",
          "warn",
          "pgvector is not installed on that server; vector search will need it (issue #4)",
        );
      }
    } catch (err) {
      add("relational", "fail", `PostgreSQL at ${where} is unreachable: ${messageOf(err)}`);
    } finally {
      await client.end().catch(() => undefined);
    }
  } else {
    const db = new Database(":memory:");
    const { v } = db.prepare("select sqlite_version() as v").get() as { v: string };
    db.close();
    add("relational", "ok", `SQLite ${v} (embedded): one file per service in ${config.CONHUB_DATA_DIR}`);
  }
  if (config.REDIS_URL) {
    const where = redactUrl(config.REDIS_URL);
    const redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      connectTimeout: 3000,
    });
    redis.on("error", () => undefined);
    try {
      await redis.connect();
      const info = await redis.info("server");
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? "?";
      add(
        "cache",
        "ok",
        `Redis ${version} at ${where} (external): cache, sessions, rate limits, jobs, events`,
      );
    } catch (err) {
      add("cache", "fail", `Redis at ${where} is unreachable: ${messageOf(err)}`);
    } finally {
      redis.disconnect();
    }
  } else {
    add("cache", "ok", "in-process cache and rate limits (embedded); not shared between processes");
    add(
      "queue",
      "ok",
      `durable job queue and events in ${join(config.CONHUB_DATA_DIR, "queue.db")} (embedded)`,
    );
  }
  add("blobs", "ok", `blobs on disk in ${join(config.CONHUB_DATA_DIR, "blobs")} (embedded)`);
  if (config.QDRANT_URL) {
    try {
      const res = await fetch(new URL("/healthz", config.QDRANT_URL), { signal: AbortSignal.timeout(3000) });
      add("vectors", res.ok ? "ok" : "fail", `Qdrant at ${config.QDRANT_URL} answered ${res.status}`);
    } catch (err) {
      add("vectors", "fail", `Qdrant at ${config.QDRANT_URL} is unreachable: ${messageOf(err)}`);
    }
  }
  if (targets.includes("frontend")) {
    if (existsSync(join(dashboardDir, "index.html"))) add("frontend", "ok", "dashboard is built");
    else add("frontend", "fail", "dashboard is not built: run `npm run build -w frontend` (npm ci does it)");
  }
  for (const name of targets) {
    const caps = (await loadTargetModule(name)).capabilities;
    const planned = caps.planned.length
      ? ` Planned${caps.issue ? ` (issue #${caps.issue})` : ""}: ${caps.planned.join("; ")}.`
      : "";
    add(`target ${name}`, "info", `${caps.summary}${planned}`);
  }
  return report(findings, json);
}

async function conhubAnswers(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { service?: string };
    return typeof body.service === "string" ? body.service : undefined;
  } catch {
    return undefined;
  }
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return messageOf(err.errors[0]);
  return err instanceof Error ? err.message || err.name : String(err);
}

function report(findings: Finding[], json: boolean): number {
  const failed = findings.filter((f) => f.level === "fail").length;
  if (json) {
    process.stdout.write(`${JSON.stringify({ ok: failed === 0, findings }, null, 2)}\n`);
  } else {
    for (const f of findings) process.stdout.write(`${icons[f.level]} ${f.area.padEnd(24)} ${f.message}\n`);
    process.stdout.write(failed === 0 ? "\nNo problems found.\n" : `\n${failed} problem(s) found.\n`);
  }
  return failed === 0 ? 0 : 1;
}
