/**
 * Helpers for tests that run ConHub as a real process: free ports, spawning
 * `conhub`, waiting for URLs, and a private redis-server a test may stop.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TargetName, targetCatalog, targetNames } from "@conhub/config";

export const repoRoot = new URL("../../", import.meta.url).pathname;
export const conhubBin = join(repoRoot, "cli/bin/conhub.mjs");

export function tempDir(prefix = "conhub-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `n` distinct ports that were free a moment ago. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Environment putting every target (and the gateway) on its own free port, with peer URLs to match. */
export async function portEnv(): Promise<{
  env: Record<string, string>;
  ports: Record<TargetName | "gateway", number>;
}> {
  const free = await freePorts(targetNames.length + 1);
  const env: Record<string, string> = {};
  const ports = {} as Record<TargetName | "gateway", number>;
  targetNames.forEach((name, i) => {
    const port = free[i]!;
    ports[name] = port;
    env[targetCatalog[name].portVar] = String(port);
    env[targetCatalog[name].urlVar] = `http://127.0.0.1:${port}`;
  });
  ports.gateway = free[targetNames.length]!;
  env.GATEWAY_PORT = String(ports.gateway);
  return { env, ports };
}

export interface RunningConhub {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (null if killed by a signal). */
  exited: Promise<number | null>;
}

/** Base environment: only what a user's shell would have, none of the CI's storage URLs unless passed. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "warn" };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function spawnConhub(args: string[], env: NodeJS.ProcessEnv): RunningConhub {
  const child = spawn(process.execPath, [conhubBin, ...args], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Polls `url` until it answers (any status), or fails after `timeoutMs` with what the process printed. */
export async function waitForUrl(url: string, timeoutMs: number, proc?: RunningConhub): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  proc?.exited.then((code) => {
    exitCode = code;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`conhub exited (${exitCode}) before ${url} answered:\n${proc?.stderr()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${proc?.stderr() ?? ""}`);
}

export async function stopConhub(
  proc: RunningConhub,
  signal: NodeJS.Signals = "SIGINT",
): Promise<number | null> {
  if (proc.child.exitCode !== null) return proc.child.exitCode;
  proc.child.kill(signal);
  return proc.exited;
}

/** A redis-server of the test's own, on a free port, that the test may stop and start again. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (await portAnswers(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

export interface FreshDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A new, empty PostgreSQL database on the server of `adminUrl`, for one test file. */
export async function freshDatabase(adminUrl: string): Promise<FreshDatabase> {
  const { default: pg } = await import("pg");
  const name = `conhub_e2e_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
