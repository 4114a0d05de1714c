import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/processes.js";
import {
  type Caller,
  type DataPlatform,
  documentPaths,
  searchPaths,
  settled,
  startDataPlatform,
  stores,
  syncNow,
  writeFiles,
} from "./data-helpers.js";

/**
 * The data service as a user meets it: sources created over HTTP, synced
 * through the durable queue into the indexer, and the index checked by
 * searching it — a local folder (initial sync, then additions, edits,
 * renames and deletions), invalid configurations, unreachable sources,
 * oversize and binary files, run history, the SSE stream, organizations kept
 * apart, and deletion of a source. Embedded, and on PostgreSQL + Redis when
 * DATABASE_URL is set.
 */
describe.each(stores)("data service: sources and local folders ($name)", ({ env: storeEnv }) => {
  let p: DataPlatform;
  let alice: Caller;
  let bob: Caller;

  beforeAll(async () => {
    p = await startDataPlatform(storeEnv);
    alice = await p.signUp(`alice-${Date.now()}@example.com`);
    bob = await p.signUp(`bob-${Date.now()}@example.com`);
  }, 120_000);
  afterAll(async () => {
    await p?.stop();
  });

  it("syncs a local folder, then exactly the new state after additions, edits, renames and deletions", async () => {
    const root = tempDir("conhub-local-");
    writeFiles(root, {
      "src/billing.ts":
        "export function computeInvoiceTotal(lines: number[]) { return lines.reduce((a, b) => a + b, 0); }\n",
      "src/legacy.py": "def frobnicate_widgets():\n    return 'old widget path'\n",
      "docs/guide.md": "# Guide\n\nThe quarterly reconciliation happens in March.\n",
      "notes.txt": "remember the zebra password rotation\n",
      ".gitignore": "ignored/\n",
      "ignored/skip.ts": "export const ignoredThing = 'xylophone';\n",
      "node_modules/dep/index.js": "module.exports = 'vendored kumquat';\n",
    });
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "local",
      name: "My folder",
      config: { path: root, watch: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.source.id as string;
    expect(id).toMatch(/^src_[0-9a-f]{24}$/);
    expect(created.body.source).toMatchObject({ type: "local", name: "My folder", hasCredentials: false });

    let source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    expect(source.lastRun).toMatchObject({
      status: "succeeded",
      mode: "full",
      trigger: "create",
      phase: "done",
    });
    expect(source.lastRun.progress).toMatchObject({
      changed: 5,
      deleted: 0,
      indexed: 5,
      batchesDone: 1,
      errors: 0,
    });
    expect(await documentPaths(p, alice, id)).toEqual([
      ".gitignore",
      "docs/guide.md",
      "notes.txt",
      "src/billing.ts",
      "src/legacy.py",
    ]);
    expect(await searchPaths(p, alice, id, "computeInvoiceTotal")).toEqual(["src/billing.ts"]);
    expect(await searchPaths(p, alice, id, "xylophone")).toEqual([]);
    expect(await searchPaths(p, alice, id, "kumquat")).toEqual([]);

    // Nothing changed: nothing is read or sent.
    source = await syncNow(p, alice, id);
    expect(source.lastRun.progress).toMatchObject({ changed: 0, unchanged: 5, deleted: 0, batches: 0 });

    // Add, modify, rename, delete; and touch a file without changing it.
    writeFiles(root, {
      "src/new-feature.go": "package feature\n\nfunc LaunchRocketSequence() {}\n",
      "docs/guide.md": "# Guide\n\nThe quarterly reconciliation moved to April.\n",
    });
    renameSync(join(root, "src/legacy.py"), join(root, "src/renamed.py"));
    rmSync(join(root, "notes.txt"));
    const t = new Date(Date.now() + 5000);
    writeFileSync(
      join(root, "src/billing.ts"),
      "export function computeInvoiceTotal(lines: number[]) { return lines.reduce((a, b) => a + b, 0); }\n",
    );
    void t;
    source = await syncNow(p, alice, id);
    expect(source.lastRun).toMatchObject({ status: "succeeded", mode: "incremental", trigger: "manual" });
    expect(source.lastRun.progress).toMatchObject({ changed: 3, deleted: 2, errors: 0 });
    expect(await documentPaths(p, alice, id)).toEqual([
      ".gitignore",
      "docs/guide.md",
      "src/billing.ts",
      "src/new-feature.go",
      "src/renamed.py",
    ]);
    expect(await searchPaths(p, alice, id, "LaunchRocketSequence")).toEqual(["src/new-feature.go"]);
    expect(await searchPaths(p, alice, id, "frobnicate_widgets")).toEqual(["src/renamed.py"]);
    expect(await searchPaths(p, alice, id, "April")).toEqual(["docs/guide.md"]);
    expect(await searchPaths(p, alice, id, "March")).toEqual([]);
    expect(await searchPaths(p, alice, id, "zebra")).toEqual([]);

    // Runs are listed newest first, with their progress.
    const runs = await p.call(alice, "GET", `/api/data/sources/${id}/runs`);
    expect(runs.status).toBe(200);
    expect(runs.body.runs.map((r: { trigger: string }) => r.trigger)).toEqual(["manual", "manual", "create"]);

    // Include/exclude globs apply (a config change resyncs in full).
    const patched = await p.call(alice, "PATCH", `/api/data/sources/${id}`, { exclude: ["docs/**"] });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    await settled(p, alice, id);
    source = await settled(p, alice, id);
    expect(source.lastRun).toMatchObject({ trigger: "config", mode: "full" });
    expect(await documentPaths(p, alice, id)).not.toContain("docs/guide.md");

    // Another organization sees none of it.
    expect((await p.call(bob, "GET", `/api/data/sources/${id}`)).status).toBe(404);
    expect((await p.call(bob, "GET", `/api/data/sources/${id}/documents`)).status).toBe(404);
    expect((await p.call(bob, "GET", "/api/data/sources")).body.sources).toEqual([]);
    expect(await searchPaths(p, bob, id, "LaunchRocketSequence")).toEqual([]);

    // The Documents API reads one document.
    const doc = await p.call(alice, "GET", `/api/data/sources/${id}/document?path=src/new-feature.go`);
    expect(doc.status, JSON.stringify(doc.body)).toBe(200);
    expect(JSON.stringify(doc.body)).toContain("LaunchRocketSequence");

    // Deleting the source removes its documents from the index.
    expect((await p.call(alice, "DELETE", `/api/data/sources/${id}`)).status).toBe(204);
    expect((await p.call(alice, "GET", `/api/data/sources/${id}`)).status).toBe(404);
    for (let i = 0; i < 100 && (await searchPaths(p, alice, id, "LaunchRocketSequence")).length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await searchPaths(p, alice, id, "LaunchRocketSequence")).toEqual([]);
  }, 120_000);

  it("skips oversize, binary and secret files with the reason, and reports them in the run", async () => {
    const root = tempDir("conhub-local-");
    writeFiles(root, {
      "ok.md": "# Fine\n\nregular content here\n",
      "huge.log": "x".repeat(2 * 1024 * 1024),
      "image.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0, 1, 2, 3]),
      ".env": "DATABASE_PASSWORD=hunter2\n",
    });
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "local",
      name: "mixed",
      config: { path: root, watch: false },
    });
    const id = created.body.source.id;
    const source = await settled(p, alice, id);
    expect(source.lastRun.progress).toMatchObject({ changed: 1, skipped: 3 });
    const run = await p.call(alice, "GET", `/api/data/sources/${id}/runs/${source.lastRun.id}`);
    expect(run.status).toBe(200);
    const reasons = Object.fromEntries(
      run.body.items.map((i: { path: string; reason: string }) => [i.path, i.reason]),
    );
    expect(reasons["huge.log"]).toMatch(/^oversize: 2097152 bytes/);
    expect(reasons["image.png"]).toBe("binary");
    expect(reasons[".env"]).toMatch(/^excluded: it may hold secrets/);
    expect(await documentPaths(p, alice, id)).toEqual(["ok.md"]);
    expect(await searchPaths(p, alice, id, "hunter2")).toEqual([]);
  }, 60_000);

  it("refuses invalid configurations with 422 naming the field", async () => {
    const bad = async (body: unknown) => {
      const res = await p.call(alice, "POST", "/api/data/sources", body);
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      return (res.body.errors ?? res.body.fields ?? res.body.invalidParams ?? res.body) as unknown;
    };
    expect(
      JSON.stringify(await bad({ type: "local", name: "x", config: { path: "relative/dir" } })),
    ).toContain("body.config.path");
    expect(
      JSON.stringify(await bad({ type: "git", name: "x", config: { url: "git@github.com:a/b.git" } })),
    ).toContain("body.config.url");
    expect(
      JSON.stringify(await bad({ type: "git", name: "x", config: { url: "https://u:p@example.com/r.git" } })),
    ).toContain("credentials.token");
    expect(
      JSON.stringify(
        await bad({
          type: "git",
          name: "x",
          config: { url: "https://example.com/r.git", branch: "--upload-pack=x" },
        }),
      ),
    ).toContain("body.config.branch");
    expect(
      JSON.stringify(await bad({ type: "web", name: "x", config: { url: "ftp://example.com" } })),
    ).toContain("body.config.url");
    expect(JSON.stringify(await bad({ type: "dropbox", name: "x", config: {} }))).toContain("body.type");
    expect(JSON.stringify(await bad({ type: "local", name: "", config: { path: "/tmp" } }))).toContain(
      "body.name",
    );
    expect(
      JSON.stringify(await bad({ type: "local", name: "x", config: { path: "/tmp", surprise: 1 } })),
    ).toContain("body.config");
    expect((await p.call(alice, "GET", "/api/data/sources/nope")).status).toBe(400);
    expect((await p.call(undefined, "GET", "/api/data/sources")).status).toBe(401);
  });

  it("marks an unreachable source as error with a message the user can act on", async () => {
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "local",
      name: "gone",
      config: { path: "/definitely/not/here", watch: false },
    });
    expect(created.status).toBe(201);
    const source = await settled(p, alice, created.body.source.id);
    expect(source.status).toBe("error");
    expect(source.statusMessage).toMatch(/does not exist on the ConHub server: check the path/);
    expect(source.lastRun).toMatchObject({ status: "failed" });
  });

  it("keeps a watched folder live: a new file becomes searchable without asking for a sync", async () => {
    const root = tempDir("conhub-local-");
    writeFiles(root, { "a.md": "# A\n\nfirst file\n" });
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "local",
      name: "watched",
      config: { path: root },
    });
    const id = created.body.source.id;
    await settled(p, alice, id);
    // The watcher starts with the service's next look at the sources table (at most 10 s).
    let paths: string[] = [];
    for (let i = 0; i < 300 && !paths.includes("b.md"); i++) {
      if (i % 20 === 0) writeFiles(root, { "b.md": `# B\n\nthe gazelle appears (${i})\n` });
      await new Promise((r) => setTimeout(r, 100));
      paths = await documentPaths(p, alice, id);
    }
    expect(paths).toEqual(["a.md", "b.md"]);
    const runs = await p.call(alice, "GET", `/api/data/sources/${id}/runs`);
    expect(runs.body.runs[0].trigger).toBe("watch");
    await p.call(alice, "DELETE", `/api/data/sources/${id}`);
  }, 60_000);

  it("streams progress over SSE until the run is done", async () => {
    const root = tempDir("conhub-local-");
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`f${i}.ts`] = `export const value${i} = ${i};\n`;
    writeFiles(root, files);
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "local",
      name: "sse",
      config: { path: root, watch: false },
    });
    const id = created.body.source.id;
    const res = await fetch(`${p.base}/api/data/sources/${id}/events`, {
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const events: Array<{ status: string; run: { status: string; progress: { seen: number } } | null }> = [];
    while (!events.some((e) => e.run?.status === "succeeded")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end = text.indexOf("\n\n");
      while (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const data = block.split("\n").find((l) => l.startsWith("data:"));
        if (block.includes("event: run") && data) events.push(JSON.parse(data.slice(5)));
        end = text.indexOf("\n\n");
      }
    }
    await reader.cancel();
    const last = events[events.length - 1]!;
    expect(last.run?.status).toBe("succeeded");
    expect(last.run?.progress.seen).toBe(30);
  });
});
