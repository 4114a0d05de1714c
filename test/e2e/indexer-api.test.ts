import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import {
  type EmbeddingsServer,
  startEmbeddingsServer,
} from "../../indexers/src/engine/embeddings-server.test-support.js";
import { callJson, signUpUser } from "../support/platform-users.js";
import { type FreshDatabase, freshDatabase, portEnv, tempDir } from "../support/processes.js";

/**
 * The indexer's HTTP API as a user meets it: auth-service and the indexer in
 * one process (embedded, and on PostgreSQL + Redis when DATABASE_URL and
 * REDIS_URL are set), two organizations, documents sent through
 * `POST /indexer/api/index` and applied by the queue worker, vectors from
 * an OpenAI-compatible server, and every read scoped to the caller's
 * organization.
 */

interface Caller {
  key: string;
  orgId: string;
}

const stores = [
  { name: "embedded", env: {} as Record<string, string> },
  ...(process.env.DATABASE_URL
    ? [{ name: "postgres+redis", env: { REDIS_URL: process.env.REDIS_URL ?? "" } as Record<string, string> }]
    : []),
];

const ROUTER_TS = `/** Matches incoming requests against registered routes. */
export class Router {
  private readonly routes: Array<{ method: string; pattern: RegExp }> = [];

  /** Finds the route for a request and calls its handler. */
  handleRequest(method: string, url: string) {
    for (const route of this.routes) {
      if (route.method === method && route.pattern.test(url)) return route;
    }
    return undefined;
  }
}
`;
const RETRY_PY = `import time


def retry_with_backoff(fn, attempts=5):
    """Calls fn until it succeeds, sleeping longer after each failure."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception:
            time.sleep(2 ** attempt)
    raise RuntimeError("gave up")
`;
const README_MD = "# Billing\n\nInvoices are sent on the first day of each month.\n";

describe.each(stores)("indexer HTTP API ($name)", ({ env: storeEnv }) => {
  let platform: Platform;
  let base: string;
  let embeddings: EmbeddingsServer;
  let database: FreshDatabase | undefined;
  let alice: Caller;
  let bob: Caller;

  const call = (caller: Caller | undefined, method: string, path: string, body?: unknown) =>
    callJson(`${base}${path}`, method, caller, body);

  const signUp = (email: string): Promise<Caller> =>
    signUpUser(`http://127.0.0.1:${platform.ports["auth-service"]}`, email, ["search:read", "sources:write"]);

  /** Queues documents and waits for the job to finish; returns its final status. */
  const index = async (caller: Caller, body: Record<string, unknown>) => {
    const queued = await call(caller, "POST", "/indexer/api/index", body);
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    for (let i = 0; i < 300; i++) {
      const job = await call(caller, "GET", `/indexer/api/jobs/${queued.body.jobId}`);
      if (job.body.state === "completed" || job.body.state === "failed") return job.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("index job did not finish");
  };

  const vectorsDone = async (caller: Caller) => {
    for (let i = 0; i < 300; i++) {
      const stats = await call(caller, "GET", "/indexer/api/stats");
      if (stats.body.vectors.chunks > 0 && stats.body.vectors.embedded === stats.body.vectors.chunks)
        return stats.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("vectors were not filled in");
  };

  beforeAll(async () => {
    embeddings = await startEmbeddingsServer();
    const { env } = await portEnv();
    database =
      process.env.DATABASE_URL && storeEnv.REDIS_URL !== undefined
        ? await freshDatabase(process.env.DATABASE_URL)
        : undefined;
    platform = await startPlatform({
      targets: ["auth-service", "indexer"],
      env: {
        ...env,
        ...storeEnv,
        ...(database
          ? { DATABASE_URL: database.url, JWT_SECRET: "indexer-api-test-secret-0123456789abcdef" }
          : {}),
        CONHUB_DATA_DIR: tempDir(),
        LOG_LEVEL: "error",
        CONHUB_EMBEDDINGS: "openai",
        CONHUB_EMBEDDINGS_URL: embeddings.url,
        CONHUB_EMBEDDINGS_MODEL: "hashed-words",
      },
    });
    base = `http://127.0.0.1:${platform.ports.indexer}`;
    alice = await signUp(`alice-${Date.now()}@example.com`);
    bob = await signUp(`bob-${Date.now()}@example.com`);
    const done = await index(alice, {
      sourceId: "repo-a",
      sourceRoot: "https://git.example.com/a.git",
      upserts: [
        { path: "src/router.ts", content: ROUTER_TS },
        { path: "lib/retry.py", content: RETRY_PY },
        { path: "docs/billing.md", content: README_MD },
        {
          path: "assets/logo.png",
          content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1, 2]).toString("base64"),
          encoding: "base64",
        },
      ],
    });
    expect(done).toMatchObject({ state: "completed", progress: 1 });
    expect(done.detail).toMatchObject({ indexed: 3, skipped: { binary: 1 } });
    await index(bob, {
      sourceId: "repo-b",
      upserts: [{ path: "secret/plan.md", content: "# Plan\n\nThe Router rewrite ships in May.\n" }],
    });
  }, 120_000);

  afterAll(async () => {
    await platform?.stop();
    await embeddings?.close();
    await database?.drop();
  });

  it("refuses callers without a valid credential", async () => {
    expect((await call(undefined, "POST", "/indexer/api/search", { query: "router" })).status).toBe(401);
    expect(
      (await call({ key: "chk_nope_nope", orgId: "" }, "POST", "/indexer/api/search", { query: "router" }))
        .status,
    ).toBe(401);
  });

  it("searches by keyword in the caller's organization only", async () => {
    const res = await call(alice, "POST", "/indexer/api/search", { query: "handleRequest", mode: "keyword" });
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toMatchObject({
      path: "src/router.ts",
      symbol: "class Router > method handleRequest",
      sourceId: "repo-a",
      retrievers: ["keyword"],
    });
    expect(res.body.results[0].startLine).toBeGreaterThan(1);
    // Bob's document mentions the Router too, but Alice never sees it, even when she names its source.
    const router = await call(alice, "POST", "/indexer/api/search", {
      query: "router rewrite ships",
      mode: "keyword",
    });
    expect(router.body.results.every((r: { sourceId: string }) => r.sourceId === "repo-a")).toBe(true);
    const named = await call(alice, "POST", "/indexer/api/search", {
      query: "rewrite",
      filters: { sourceIds: ["repo-b"] },
    });
    expect(named.body.results).toEqual([]);
    const bobs = await call(bob, "POST", "/indexer/api/search", { query: "rewrite ships", mode: "keyword" });
    expect(bobs.body.results.map((r: { path: string }) => r.path)).toEqual(["secret/plan.md"]);
  });

  it("fills vectors in the background and fuses both retrievers in hybrid search", async () => {
    const stats = await vectorsDone(alice);
    expect(stats.vectors).toMatchObject({
      store: expect.stringMatching(/usearch|pgvector/),
      provider: { provider: "openai" },
    });
    expect(embeddings.embedded()).toBeGreaterThan(0);
    const vector = await call(alice, "POST", "/indexer/api/search", {
      query: "sleep longer after each failure",
      mode: "vector",
      limit: 3,
    });
    expect(vector.status).toBe(200);
    expect(vector.body.results[0]).toMatchObject({ path: "lib/retry.py", retrievers: ["vector"] });
    const hybrid = await call(alice, "POST", "/indexer/api/search", {
      query: "retry with backoff",
      limit: 5,
    });
    expect(hybrid.body.mode).toBe("hybrid");
    expect(hybrid.body.results[0]).toMatchObject({ path: "lib/retry.py", retrievers: ["keyword", "vector"] });
    // Vector hits are scoped too.
    const bobVector = await call(bob, "POST", "/indexer/api/search", {
      query: "retry with backoff",
      mode: "vector",
    });
    expect(bobVector.body.results.every((r: { sourceId: string }) => r.sourceId === "repo-b")).toBe(true);
  });

  it("answers grep, symbols, documents, sources and stats", async () => {
    const grep = await call(alice, "POST", "/indexer/api/grep", { pattern: "route\\.method === \\w+" });
    expect(grep.status).toBe(200);
    expect(grep.body.hits).toEqual([expect.objectContaining({ path: "src/router.ts", line: 8 })]);
    const bad = await call(alice, "POST", "/indexer/api/grep", { pattern: "(?<=a)b" });
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain("body.pattern");
    expect(bad.headers.get("content-type")).toContain("application/problem+json");

    const symbols = await call(alice, "GET", "/indexer/api/symbols?name=retry_with_backoff");
    expect(symbols.body.symbols).toEqual([
      expect.objectContaining({
        name: "retry_with_backoff",
        kind: "function",
        file: "lib/retry.py",
        startLine: 4,
      }),
    ]);
    expect((await call(bob, "GET", "/indexer/api/symbols?name=retry_with_backoff")).body.symbols).toEqual([]);

    const doc = await call(alice, "GET", "/indexer/api/document?sourceId=repo-a&path=lib%2Fretry.py");
    expect(doc.body.document.chunks.map((c: { text: string }) => c.text).join("\n")).toContain(
      "def retry_with_backoff",
    );
    expect((await call(bob, "GET", "/indexer/api/document?sourceId=repo-a&path=lib%2Fretry.py")).status).toBe(
      404,
    );
    const docs = await call(alice, "GET", "/indexer/api/documents?sourceId=repo-a");
    expect(docs.body.documents.map((d: { path: string }) => d.path)).toEqual([
      "docs/billing.md",
      "lib/retry.py",
      "src/router.ts",
    ]);

    const sources = await call(alice, "GET", "/indexer/api/sources");
    expect(sources.body.sources).toEqual([
      expect.objectContaining({
        id: "repo-a",
        root: "https://git.example.com/a.git",
        documents: 3,
        skipped: { binary: 1 },
      }),
    ]);
    const stats = await call(bob, "GET", "/indexer/api/stats");
    expect(stats.body).toMatchObject({ sources: 1, documents: 1 });
  });

  it("validates input with problem details naming the field", async () => {
    const empty = await call(alice, "POST", "/indexer/api/search", { query: "" });
    expect(empty.status).toBe(422);
    expect(JSON.stringify(empty.body)).toContain("body.query");
    const mode = await call(alice, "POST", "/indexer/api/search", { query: "x", mode: "semantic" });
    expect(JSON.stringify(mode.body)).toContain("body.mode");
    const traversal = await call(alice, "POST", "/indexer/api/index", {
      sourceId: "repo-a",
      upserts: [{ path: "../etc/passwd", content: "x" }],
    });
    expect(traversal.status).toBe(422);
    expect(JSON.stringify(traversal.body)).toContain("path");
  });

  it("applies edits and deletions, and never lets one organization write into another's source", async () => {
    const job = await index(alice, {
      sourceId: "repo-a",
      upserts: [
        {
          path: "docs/billing.md",
          content: "# Billing\n\nInvoices are sent on the last day of each quarter.\n",
        },
      ],
      deletions: ["src/router.ts"],
    });
    expect(job.detail).toMatchObject({ indexed: 1, deleted: 1 });
    const gone = await call(alice, "POST", "/indexer/api/search", {
      query: "handleRequest",
      mode: "keyword",
    });
    expect(gone.body.results).toEqual([]);
    const edited = await call(alice, "POST", "/indexer/api/search", { query: "quarter", mode: "keyword" });
    expect(edited.body.results.map((r: { path: string }) => r.path)).toEqual(["docs/billing.md"]);
    // The old text is gone from every index: no word of it that the new text lacks still matches.
    expect(
      (await call(alice, "POST", "/indexer/api/search", { query: "month", mode: "keyword" })).body.results,
    ).toEqual([]);
    expect((await call(alice, "POST", "/indexer/api/grep", { pattern: "first day" })).body.hits).toEqual([]);

    // …and from the vectors: the edited document's new chunk is embedded, the deleted one's vector never answers.
    await vectorsDone(alice);
    const vector = await call(alice, "POST", "/indexer/api/search", {
      query: "router handle request route method pattern",
      mode: "vector",
      limit: 10,
    });
    expect(vector.body.results.map((r: { path: string }) => r.path)).not.toContain("src/router.ts");

    const hijack = await call(bob, "POST", "/indexer/api/index", { sourceId: "repo-a", deleteSource: true });
    expect(hijack.status).toBe(404);
    expect((await call(bob, "GET", `/indexer/api/jobs/${job.id}`)).status).toBe(404);
    expect((await call(alice, "GET", "/indexer/api/sources")).body.sources).toHaveLength(1);
  });
});
