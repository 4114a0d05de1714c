import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, onTestFinished } from "vitest";
import { deleteByPrefix } from "../redis/connection.js";
import type { BlobSpec, KeyValueSpec, QueueSpec, RelationalSpec } from "./specs.js";

/* Test-only: these helpers read DATABASE_URL and REDIS_URL to decide which adapters are reachable. */

export function randomSuffix(bytes = 4): string {
  return randomBytes(bytes).toString("hex");
}

/** A fresh temporary folder, removed after the current test. */
export async function tempDir(prefix = "conhub-test-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `close` after the current test (handles opened in a test). */
export function closeAfterTest<T extends { close(): Promise<void> }>(handle: T): T {
  onTestFinished(() => handle.close());
  return handle;
}

export function databaseUrl(): string | undefined {
  return process.env.DATABASE_URL || undefined;
}

export function redisUrl(): string | undefined {
  return process.env.REDIS_URL || undefined;
}

/** One adapter a contract suite runs against. */
export interface AdapterFixture<Spec> {
  name: string;
  /** Whether two handles on one backend share state (and so do separate processes). */
  shared: boolean;
  /** A fresh, isolated backend for the current test, cleaned up after it. */
  backend(): Promise<Spec>;
}

/**
 * One database per test file, created from DATABASE_URL and dropped after
 * the file's tests (call this at the top level of the file, or in a describe).
 * Tests isolate themselves inside it by service (schema) name.
 */
function postgresFileDatabase(adminUrl: string): () => Promise<string> {
  let created: Promise<string> | undefined;
  const name = `conhub_test_${randomSuffix(6)}`;
  afterAll(async () => {
    if (!created) return;
    await created.catch(() => undefined);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.end();
    }
  });
  return () => {
    created ??= (async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`create database "${name}"`);
      } finally {
        await admin.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    })();
    return created;
  };
}

/** SQLite always; PostgreSQL when DATABASE_URL is set. */
export function reachableRelationalAdapters(): AdapterFixture<RelationalSpec>[] {
  const adapters: AdapterFixture<RelationalSpec>[] = [
    {
      name: "sqlite",
      shared: true,
      backend: async () => ({ kind: "sqlite", dataDir: await tempDir(), service: `svc-${randomSuffix()}` }),
    },
  ];
  const url = databaseUrl();
  if (url) {
    const database = postgresFileDatabase(url);
    adapters.push({
      name: "postgres",
      shared: true,
      backend: async () => ({ kind: "postgres", url: await database(), service: `svc-${randomSuffix()}` }),
    });
  }
  return adapters;
}

/** A key prefix of its own for the current test; every key under it is deleted after the test. */
async function redisPrefix(url: string): Promise<string> {
  const prefix = `conhub-test:${randomSuffix(6)}:`;
  onTestFinished(async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      await deleteByPrefix(client, prefix);
    } finally {
      client.disconnect();
    }
  });
  return prefix;
}

/** Memory always; Redis when REDIS_URL is set. For caches and rate limiters. */
export function reachableKeyValueAdapters(): AdapterFixture<KeyValueSpec>[] {
  const adapters: AdapterFixture<KeyValueSpec>[] = [
    { name: "memory", shared: false, backend: async () => ({ kind: "memory" }) },
  ];
  const url = redisUrl();
  if (url)
    adapters.push({
      name: "redis",
      shared: true,
      backend: async () => ({ kind: "redis", url, prefix: await redisPrefix(url) }),
    });
  return adapters;
}

/** SQLite always; Redis (BullMQ) when REDIS_URL is set. */
export function reachableQueueAdapters(): AdapterFixture<QueueSpec>[] {
  const adapters: AdapterFixture<QueueSpec>[] = [
    {
      name: "sqlite",
      shared: true,
      backend: async () => ({ kind: "sqlite", path: join(await tempDir(), "queue.db"), pollMs: 50 }),
    },
  ];
  const url = redisUrl();
  if (url)
    adapters.push({
      name: "redis",
      shared: true,
      backend: async () => ({ kind: "redis", url, prefix: await redisPrefix(url) }),
    });
  return adapters;
}

export function reachableBlobAdapters(): AdapterFixture<BlobSpec>[] {
  return [
    {
      name: "disk",
      shared: true,
      backend: async () => ({ kind: "disk", root: join(await tempDir(), "blobs") }),
    },
  ];
}

// ---------------------------------------------------------------- child processes

export interface ChildHandle {
  process: ChildProcess;
  /** Resolves with the first JSON line on stdout that satisfies `match`. */
  line<T = Record<string, unknown>>(match: (value: T) => boolean, timeoutMs?: number): Promise<T>;
  /** Resolves when the process exits, with its code. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

let childBuild: Promise<string> | undefined;

/**
 * `child.ts` bundled (our code only; npm packages stay external) into one ESM
 * file under node_modules/.cache, named by its content hash, so the child
 * starts on plain Node in a fraction of the time a TypeScript loader needs.
 */
function buildChild(): Promise<string> {
  childBuild ??= (async () => {
    const require = createRequire(import.meta.url);
    const esbuild = (await import(
      pathToFileURL(require.resolve("esbuild")).href
    )) as typeof import("esbuild");
    const cacheDir = join(
      dirname(require.resolve("esbuild/package.json")),
      "..",
      ".cache",
      "conhub-storage-test",
    );
    const result = await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./child.ts", import.meta.url))],
      write: false,
      outfile: join(cacheDir, "child.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      plugins: [
        {
          // npm packages stay external (loaded from node_modules); our TypeScript workspaces are bundled.
          name: "external-packages",
          setup(build) {
            build.onResolve({ filter: /^[^./]/ }, (args) =>
              args.path.startsWith("@conhub/") ? undefined : { path: args.path, external: true },
            );
          },
        },
      ],
    });
    const code = result.outputFiles?.[0]?.contents;
    if (!code) throw new Error("bundling the test child produced nothing");
    const outfile = join(
      cacheDir,
      `child-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`,
    );
    if (!existsSync(outfile)) {
      await mkdir(cacheDir, { recursive: true });
      const temp = `${outfile}.${process.pid}.tmp`;
      await writeFile(temp, code);
      await rename(temp, outfile);
    }
    return outfile;
  })();
  return childBuild;
}

/** Runs `child.ts` in another Node process; killed after the current test if still running. */
export async function spawnChild(args: string[]): Promise<ChildHandle> {
  const script = await buildChild();
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const lines: unknown[] = [];
  const listeners = new Set<() => void>();
  let stderr = "";
  let buffer = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      const text = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (text.startsWith("{")) {
        try {
          lines.push(JSON.parse(text));
        } catch {
          // not ours
        }
      }
      nl = buffer.indexOf("\n");
    }
    for (const l of listeners) l();
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  void exited.then(() => {
    for (const l of listeners) l();
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return {
    process: child,
    exited,
    kill: (signal = "SIGKILL") => {
      child.kill(signal);
    },
    line<T>(match: (value: T) => boolean, timeoutMs = 15_000) {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const found = lines.find((l) => match(l as T));
          if (found !== undefined) {
            done();
            resolve(found as T);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(
              new Error(
                `child exited (${child.exitCode ?? child.signalCode}) without the expected line; stderr:\n${stderr}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`child did not print the expected line within ${timeoutMs} ms; stderr:\n${stderr}`),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

// ---------------------------------------------------------------- a TCP proxy to stop and restart a server

/**
 * A real TCP forwarder in front of a server (Redis, PostgreSQL), so a test can
 * make the server unreachable and bring it back on the same address without
 * touching the shared server itself.
 */
export interface TcpProxy {
  port: number;
  /** Refuses new connections and cuts the open ones. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        // A connection accepted while stopping would keep `close` waiting: refuse it.
        if (server !== s) {
          client.destroy();
          return;
        }
        const upstream = new Socket();
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on("error", drop).on("close", drop);
        upstream.on("error", drop).on("close", drop);
        upstream.connect(targetPort, targetHost, () => {
          client.pipe(upstream);
          upstream.pipe(client);
        });
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        const address = s.address();
        if (address && typeof address === "object") port = address.port;
        server = s;
        resolve();
      });
    });
  const stop = async () => {
    const s = server;
    server = undefined;
    // Stop listening first, then cut what is open; `close` calls back once every connection is gone.
    const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    await closed;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    stop,
    start: listen,
    close: stop,
  };
}

/** Polls `probe` until it resolves, or fails with its last error after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
