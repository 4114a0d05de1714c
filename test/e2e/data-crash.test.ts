import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import {
  cleanEnv,
  type FreshDatabase,
  freshDatabase,
  portEnv,
  type RunningConhub,
  spawnConhub,
  stopConhub,
  tempDir,
  waitForUrl,
} from "../support/processes.js";
import { type Caller, documentPaths, searchPaths, stores, writeFiles } from "./data-helpers.js";

/**
 * A data service killed (SIGKILL) in the middle of a sync, and started
 * again: the queue hands the sync job to the new process, which resumes the
 * same run and finishes it — every file indexed, none lost, none sent twice
 * for nothing. Auth and the indexer run in this process; the data service
 * in a child process on the same storage (embedded files, or PostgreSQL +
 * Redis).
 */
/** A word of letters only, different for each i (digits would be split off by the tokenizer). */
const word = (i: number) =>
  `zq${[...i.toString(26).padStart(4, "0")].map((c) => String.fromCharCode(97 + Number.parseInt(c, 26))).join("")}`;

describe.each(stores)("data service: crash in the middle of a sync ($name)", ({ env: storeEnv }) => {
  let platform: Platform;
  let database: FreshDatabase | undefined;
  let env: Record<string, string>;
  let child: RunningConhub | undefined;
  let alice: Caller;
  let dataBase: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const url = path.startsWith("/indexer/")
      ? `http://127.0.0.1:${platform.ports.indexer}${path}`
      : `${dataBase}${path}`;
    const send = () =>
      fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${alice.key}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    // A pooled keep-alive connection to the killed process fails once; a new one reaches the new process.
    const res = await send().catch(send);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };

  const startDataService = async () => {
    child = spawnConhub(["start", "--target", "data-service"], cleanEnv(env));
    await waitForUrl(`${dataBase}/health`, 90_000, child);
  };

  beforeAll(async () => {
    const ports = await portEnv();
    database =
      process.env.DATABASE_URL && storeEnv.REDIS_URL !== undefined
        ? await freshDatabase(process.env.DATABASE_URL)
        : undefined;
    env = {
      ...ports.env,
      ...storeEnv,
      ...(database
        ? { DATABASE_URL: database.url, JWT_SECRET: "data-crash-test-secret-0123456789abcdef" }
        : {}),
      CONHUB_DATA_DIR: tempDir("conhub-data-crash-"),
      LOG_LEVEL: "error",
      CONHUB_EMBEDDINGS: "none",
    };
    platform = await startPlatform({ targets: ["auth-service", "indexer"], env });
    dataBase = `http://127.0.0.1:${ports.ports["data-service"]}`;
    const auth = `http://127.0.0.1:${platform.ports["auth-service"]}`;
    const json = { "content-type": "application/json" };
    const email = `crash-${Date.now()}@example.com`;
    const password = "correct horse battery staple";
    await fetch(`${auth}/api/auth/register`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    });
    const login = await fetch(`${auth}/api/auth/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email, password }),
    });
    const session = (await login.json()) as { accessToken: string; organization: { id: string } };
    const created = await fetch(`${auth}/api/auth/api-keys`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${session.accessToken}` },
      body: JSON.stringify({ name: "crash", scopes: ["search:read", "sources:read", "sources:write"] }),
    });
    alice = { key: ((await created.json()) as { key: string }).key, orgId: session.organization.id };
    await startDataService();
  }, 180_000);

  afterAll(async () => {
    if (process.env.DATA_CRASH_DEBUG) console.log(child?.stderr(), child?.stdout());
    if (child) await stopConhub(child, "SIGKILL");
    await platform?.stop();
    await database?.drop();
  });

  it("resumes the run after SIGKILL and ends with every file indexed exactly once", async () => {
    const root = tempDir("conhub-crash-src-");
    const files: Record<string, string> = {};
    const N = 4000;
    for (let i = 0; i < N; i++) {
      const body = Array.from({ length: 40 }, (_, j) => `  const line${j} = "padding ${i}-${j}";`).join("\n");
      files[`pkg${i % 40}/module${i}.ts`] = `export function ${word(i)}() {\n${body}\n  return ${i};\n}\n`;
    }
    writeFiles(root, files);
    const created = await call("POST", "/api/data/sources", {
      type: "local",
      name: "big",
      config: { path: root, watch: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.source.id;

    // Wait until some batches are out, then kill the process without warning.
    let before: { progress: { batches: number; batchesDone: number } } | undefined;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const s = (await call("GET", `/api/data/sources/${id}`)).body.source;
      if (s.currentRun && s.currentRun.progress.batches >= 1) {
        before = s.currentRun;
        break;
      }
      if (s.lastRun)
        throw new Error(`the sync finished before it could be interrupted: ${JSON.stringify(s.lastRun)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(before, "the sync never got going").toBeDefined();
    await stopConhub(child!, "SIGKILL");
    // Killed while the run was unfinished: not every batch had been indexed.
    expect(before!.progress.batchesDone).toBeLessThan(N / 500);

    await startDataService();
    let source:
      | {
          status: string;
          lastRun: null | {
            status: string;
            resumes: number;
            progress: { changed: number; indexed: number; indexUnchanged: number };
          };
        }
      | undefined;
    for (let i = 0; i < 1200; i++) {
      source = (await call("GET", `/api/data/sources/${id}`)).body.source;
      if (source?.lastRun && source.status !== "syncing" && source.status !== "queued") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(source?.lastRun, JSON.stringify(source)).toMatchObject({ status: "succeeded" });
    const run = source!.lastRun!;
    expect(run.resumes).toBeGreaterThanOrEqual(1);
    // Exactly N documents went out in the run's batches; the indexer indexed each once
    // (a batch sent again after the kill, if any, finds its documents unchanged).
    expect(run.progress.changed).toBe(N);
    expect(run.progress.indexed + run.progress.indexUnchanged).toBe(N);
    const api = { call: (_c: Caller | undefined, m: string, p: string, b?: unknown) => call(m, p, b) };
    const paths = await documentPaths(api, alice, id);
    expect(paths.length).toBe(N);
    expect(new Set(paths).size).toBe(N);
    for (const i of [0, 1, 999, 2500, N - 1]) {
      expect(await searchPaths(api, alice, id, word(i))).toEqual([`pkg${i % 40}/module${i}.ts`]);
    }
    // Only one run: the resumed one.
    const runs = await call("GET", `/api/data/sources/${id}/runs`);
    expect(runs.body.runs).toHaveLength(1);
  }, 240_000);
});
