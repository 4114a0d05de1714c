import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { callJson, signUpUser } from "../support/platform-users.js";
import { type FreshDatabase, freshDatabase, portEnv, tempDir } from "../support/processes.js";

/**
 * Shared by the data-service end-to-end tests: a platform with auth, indexer
 * and data service (embedded, or PostgreSQL + Redis), a signed-up caller
 * with an API key, and small helpers to drive sources and read the index.
 */

export const stores = [
  { name: "embedded", env: {} as Record<string, string> },
  ...(process.env.DATABASE_URL
    ? [{ name: "postgres+redis", env: { REDIS_URL: process.env.REDIS_URL ?? "" } as Record<string, string> }]
    : []),
];

export interface Caller {
  key: string;
  orgId: string;
}

export interface DataPlatform {
  platform: Platform;
  base: string;
  dataDir: string;
  env: Record<string, string>;
  call(caller: Caller | undefined, method: string, path: string, body?: unknown): Promise<ApiResponse>;
  signUp(email: string, scopes?: string[]): Promise<Caller>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field.
  body: any;
  headers: Headers;
}

export async function startDataPlatform(
  storeEnv: Record<string, string>,
  extra: Record<string, string> = {},
) {
  const { env: ports } = await portEnv();
  const database: FreshDatabase | undefined =
    process.env.DATABASE_URL && storeEnv.REDIS_URL !== undefined
      ? await freshDatabase(process.env.DATABASE_URL)
      : undefined;
  const dataDir = tempDir("conhub-data-");
  const env: Record<string, string> = {
    ...ports,
    ...storeEnv,
    ...(database
      ? { DATABASE_URL: database.url, JWT_SECRET: "data-service-test-secret-0123456789abcdef" }
      : {}),
    CONHUB_DATA_DIR: dataDir,
    LOG_LEVEL: "error",
    CONHUB_EMBEDDINGS: "none",
    ...extra,
  };
  const platform = await startPlatform({ targets: ["auth-service", "indexer", "data-service"], env });
  const base = `http://127.0.0.1:${platform.ports["data-service"]}`;
  const indexerBase = `http://127.0.0.1:${platform.ports.indexer}`;
  const call = async (caller: Caller | undefined, method: string, path: string, body?: unknown) => {
    const url = path.startsWith("/indexer/") ? `${indexerBase}${path}` : `${base}${path}`;
    return (await callJson(url, method, caller, body)) as ApiResponse;
  };
  const signUp = (email: string, scopes = ["search:read", "sources:read", "sources:write", "admin"]) =>
    signUpUser(`http://127.0.0.1:${platform.ports["auth-service"]}`, email, scopes);
  return {
    platform,
    base,
    dataDir,
    env,
    call,
    signUp,
    async stop() {
      await platform.stop();
      await database?.drop();
    },
  } satisfies DataPlatform;
}

/** Waits until the source has no sync running or pending; returns the source. */
export async function settled(p: DataPlatform, caller: Caller, id: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await p.call(caller, "GET", `/api/data/sources/${id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const s = res.body.source;
    if ((s.status === "idle" || s.status === "error") && !s.currentRun && !s.pendingSync && s.lastRun)
      return s;
    if (Date.now() > deadline) throw new Error(`source ${id} did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Asks for a sync and waits for it (and any other pending one) to finish. */
export async function syncNow(p: DataPlatform, caller: Caller, id: string, body: unknown = {}) {
  const before = (await p.call(caller, "GET", `/api/data/sources/${id}`)).body.source.lastRun?.id;
  const res = await p.call(caller, "POST", `/api/data/sources/${id}/sync`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s = await settled(p, caller, id);
    if (s.lastRun.id !== before) return s;
    if (Date.now() > deadline) throw new Error("no new run");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every document path of a source, through the data service's Documents API. */
export async function documentPaths(
  p: Pick<DataPlatform, "call">,
  caller: Caller,
  id: string,
): Promise<string[]> {
  const paths: string[] = [];
  let after: string | undefined;
  for (;;) {
    const q = new URLSearchParams({ limit: "1000", ...(after ? { after } : {}) });
    const res = await p.call(caller, "GET", `/api/data/sources/${id}/documents?${q}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    for (const d of res.body.documents) paths.push(d.path);
    if (!res.body.next) return paths.sort();
    after = res.body.next;
  }
}

/** Paths of keyword hits for `query` in one source. */
export async function searchPaths(
  p: Pick<DataPlatform, "call">,
  caller: Caller,
  sourceId: string,
  query: string,
) {
  const res = await p.call(caller, "POST", "/indexer/api/search", {
    query,
    mode: "keyword",
    limit: 50,
    filters: { sourceIds: [sourceId] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return [...new Set((res.body.results as Array<{ path: string }>).map((r) => r.path))].sort();
}

export function writeFiles(root: string, files: Record<string, string | Buffer>) {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.com",
    },
    encoding: "utf8",
  }).trim();
}

/**
 * A working repository and a bare clone of it (`commit()` publishes the work):
 * in temporary directories, or as `<dir>/<name>-work` and `<dir>/<name>.git`.
 */
export function gitRepo(files: Record<string, string>, at?: { dir: string; name: string }) {
  const work = at ? join(at.dir, `${at.name}-work`) : tempDir("conhub-git-work-");
  const bare = at ? join(at.dir, `${at.name}.git`) : tempDir("conhub-git-bare-");
  if (at) {
    mkdirSync(work, { recursive: true });
    mkdirSync(bare, { recursive: true });
  }
  gitIn(work, "init", "-q", "-b", "main");
  writeFiles(work, files);
  gitIn(work, "add", "-A");
  gitIn(work, "commit", "-q", "-m", "initial");
  gitIn(bare, "init", "-q", "--bare");
  gitIn(work, "push", "-q", bare, "main:main");
  gitIn(bare, "symbolic-ref", "HEAD", "refs/heads/main");
  return {
    work,
    bare,
    commit(message: string) {
      gitIn(work, "add", "-A");
      gitIn(work, "commit", "-q", "-m", message);
      gitIn(work, "push", "-q", bare, "main:main");
      return gitIn(work, "rev-parse", "HEAD");
    },
  };
}

/**
 * Smart HTTP git server: `git http-backend` behind node:http, serving the
 * bare repositories under `root` at `/<name>`; with `token`, it answers 401
 * to requests without `Authorization: Basic <any user>:<token>`.
 */
export async function gitHttpServer(
  root: string,
  token?: string,
): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (token) {
      const auth = req.headers.authorization ?? "";
      const decoded = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString("utf8") : "";
      if (decoded.split(":").slice(1).join(":") !== token) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' });
        res.end("unauthorized");
        return;
      }
    }
    const url = new URL(req.url ?? "/", "http://x");
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? "GET",
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-encoding"]
          ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] }
          : {}),
        ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
        REMOTE_ADDR: "127.0.0.1",
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString("utf8").split("\r\n")) {
        const i = line.indexOf(":");
        const name = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    child.stdout.on("end", () => res.end());
    child.on("error", () => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, requests };
}
