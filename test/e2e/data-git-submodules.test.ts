import { mkdirSync, renameSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/processes.js";
import {
  type Caller,
  type DataPlatform,
  documentPaths,
  gitHttpServer,
  gitIn,
  gitRepo,
  searchPaths,
  settled,
  startDataPlatform,
  stores,
  syncNow,
  writeFiles,
} from "./data-helpers.js";

/**
 * Git submodules: off by default (the repository indexes without them and
 * the run says why), on with `"submodules": true` — the submodule's files
 * under its path, a pointer change picked up by an incremental sync, a
 * removed submodule removed from the index — and the parent's URL rules:
 * paths on disk only inside DATA_LOCAL_ROOTS and never from a remote
 * repository, the token only to the parent's host.
 */

/** A working repository with a bare one next to it, both under `dir`. */
function repoIn(dir: string, name: string, files: Record<string, string>) {
  return gitRepo(files, { dir, name });
}

/** Adds `url` as a submodule at `path` of the working repository (file URLs allowed for the test's git). */
function addSubmodule(work: string, url: string, path: string) {
  gitIn(work, "-c", "protocol.file.allow=always", "submodule", "add", "-q", url, path);
}

describe.each(stores)("data service: git submodules ($name)", ({ env: storeEnv }) => {
  let p: DataPlatform;
  let alice: Caller;
  let http: { url: string; server: Server; requests: string[] };
  let other: { url: string; server: Server; requests: string[] };
  const roots = tempDir("conhub-git-roots-");
  const outside = tempDir("conhub-git-outside-");
  const httpRoot = tempDir("conhub-git-http-");
  const otherRoot = tempDir("conhub-git-other-");

  beforeAll(async () => {
    p = await startDataPlatform(storeEnv, {
      DATA_LOCAL_ROOTS: roots,
      DATA_ALLOW_PRIVATE_NETWORKS: "127.0.0.1/32",
    });
    alice = await p.signUp(`alice-${Date.now()}@example.com`);
    http = await gitHttpServer(httpRoot, "s3cret-token");
    other = await gitHttpServer(otherRoot, "s3cret-token");
  }, 120_000);
  afterAll(async () => {
    await new Promise((r) => http?.server.close(r));
    await new Promise((r) => other?.server.close(r));
    await p?.stop();
  });

  const runItems = async (id: string) => {
    const runs = await p.call(alice, "GET", `/api/data/sources/${id}/runs`);
    const last = runs.body.runs[0].id;
    const run = await p.call(alice, "GET", `/api/data/sources/${id}/runs/${last}`);
    return run.body.items as Array<{ path: string; kind: string; reason: string }>;
  };

  it("indexes without submodules by default and says so; with submodules on, follows their commits", async () => {
    const lib = repoIn(roots, "lib", {
      "src/checksum.ts": "export function computeWombatChecksum() { return 7; }\n",
      "src/legacy.ts": "export const platypusLegacyFlag = true;\n",
      "README.md": "# lib\n\nThe library of the numbat platform.\n",
    });
    const app = repoIn(roots, "app", { "main.ts": "export function startQuokkaServer() {}\n" });
    addSubmodule(app.work, lib.bare, "modules/lib");
    app.commit("add the lib submodule");

    // Off (the default): the repository without the submodule, and the run says why.
    const off = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "app without submodules",
      config: { url: app.bare },
    });
    expect(off.status, JSON.stringify(off.body)).toBe(201);
    const offSource = await settled(p, alice, off.body.source.id);
    expect(offSource.status, offSource.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, off.body.source.id)).toEqual([".gitmodules", "main.ts"]);
    expect(offSource.lastRun.progress.errors).toBe(0);
    expect(await runItems(off.body.source.id)).toContainEqual(
      expect.objectContaining({
        path: "modules/lib",
        kind: "skipped",
        reason: expect.stringContaining('"submodules": true'),
      }),
    );

    // On: the submodule's files under its path.
    const on = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "app with submodules",
      config: { url: app.bare, submodules: true },
    });
    expect(on.status, JSON.stringify(on.body)).toBe(201);
    const id = on.body.source.id;
    const first = await settled(p, alice, id);
    expect(first.status, first.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, id)).toEqual([
      ".gitmodules",
      "main.ts",
      "modules/lib/README.md",
      "modules/lib/src/checksum.ts",
      "modules/lib/src/legacy.ts",
    ]);
    expect(await searchPaths(p, alice, id, "computeWombatChecksum")).toEqual(["modules/lib/src/checksum.ts"]);

    // The submodule moves on (an edit, an add, a delete) and the parent records the new commit.
    writeFiles(lib.work, {
      "src/checksum.ts": "export function computeNarwhalDigest() { return 9; }\n",
      "src/added.ts": "export const pelicanFeature = 1;\n",
    });
    rmSync(join(lib.work, "src/legacy.ts"));
    lib.commit("lib v2");
    gitIn(join(app.work, "modules/lib"), "-c", "protocol.file.allow=always", "pull", "-q", "origin", "main");
    const appHead = app.commit("bump lib");
    const second = await syncNow(p, alice, id);
    expect(second.status, second.statusMessage).toBe("idle");
    expect(second.lastRun).toMatchObject({ mode: "incremental", status: "succeeded", cursorTo: appHead });
    // Only what changed was sent: the edit and the add (the deletion is one more).
    expect(second.lastRun.progress).toMatchObject({ changed: 2, deleted: 1 });
    expect(await documentPaths(p, alice, id)).toEqual([
      ".gitmodules",
      "main.ts",
      "modules/lib/README.md",
      "modules/lib/src/added.ts",
      "modules/lib/src/checksum.ts",
    ]);
    expect(await searchPaths(p, alice, id, "computeNarwhalDigest")).toEqual(["modules/lib/src/checksum.ts"]);
    expect(await searchPaths(p, alice, id, "wombat")).toEqual([]);
    expect(await searchPaths(p, alice, id, "platypus")).toEqual([]);

    // An ordinary commit in the parent stays a plain diff.
    writeFiles(app.work, { "main.ts": "export function startEchidnaServer() {}\n" });
    app.commit("rename the server");
    const third = await syncNow(p, alice, id);
    expect(third.lastRun.progress).toMatchObject({ changed: 1, deleted: 0, total: 1 });

    // The submodule removed: its files leave the index.
    gitIn(app.work, "rm", "-q", "modules/lib");
    app.commit("drop the lib");
    const fourth = await syncNow(p, alice, id);
    expect(fourth.status, fourth.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, id)).toEqual([".gitmodules", "main.ts"]);
    expect(await searchPaths(p, alice, id, "narwhal")).toEqual([]);
  }, 180_000);

  it("refuses submodules outside DATA_LOCAL_ROOTS, and paths on disk from a remote repository", async () => {
    const secret = repoIn(outside, "secret", { "keys.md": "# private wallaby notes\n" });
    const inside = repoIn(roots, "inside", { "ok.md": "# fine kookaburra notes\n" });
    const app = repoIn(roots, "app2", { "main.ts": "export const bilbyApp = 1;\n" });
    addSubmodule(app.work, secret.bare, "modules/secret");
    app.commit("add a submodule from outside the allowed roots");
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "app2",
      config: { url: app.bare, submodules: true },
    });
    const id = created.body.source.id;
    const source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, id)).toEqual([".gitmodules", "main.ts"]);
    expect(await runItems(id)).toContainEqual(
      expect.objectContaining({
        path: "modules/secret",
        kind: "skipped",
        reason: expect.stringContaining("DATA_LOCAL_ROOTS"),
      }),
    );
    expect(await searchPaths(p, alice, id, "wallaby")).toEqual([]);

    // Served over HTTP, the same kind of repository may not point at the server's disk, even inside
    // the allowed roots; a submodule next to it on the same host (a relative URL) gets the token.
    const remote = repoIn(roots, "remote-work", { "main.ts": "export const dingoRemote = 1;\n" });
    addSubmodule(remote.work, inside.bare, "modules/inside");
    gitIn(
      remote.work,
      "-c",
      "protocol.file.allow=always",
      "submodule",
      "add",
      "-q",
      inside.bare,
      "modules/sibling",
    );
    gitIn(remote.work, "config", "-f", ".gitmodules", "submodule.modules/sibling.url", "../sibling.git");
    // Two more, recorded by hand (git would clone them to add them): one on another host that also
    // wants the token (it must not get it), one on a private address the admin did not allow.
    const insideHead = gitIn(inside.work, "rev-parse", "HEAD");
    for (const [name, url] of [
      ["other", `${other.url}/other.git`],
      ["private", "http://127.0.0.2:9/private.git"],
    ] as const) {
      // An empty folder: a submodule not checked out, which `git add -A` leaves alone.
      mkdirSync(join(remote.work, "modules", name), { recursive: true });
      gitIn(remote.work, "update-index", "--add", "--cacheinfo", `160000,${insideHead},modules/${name}`);
      gitIn(remote.work, "config", "-f", ".gitmodules", `submodule.modules/${name}.path`, `modules/${name}`);
      gitIn(remote.work, "config", "-f", ".gitmodules", `submodule.modules/${name}.url`, url);
    }
    remote.commit("four submodules");
    gitIn(httpRoot, "clone", "-q", "--bare", remote.bare, join(httpRoot, "parent.git"));
    gitIn(httpRoot, "clone", "-q", "--bare", inside.bare, join(httpRoot, "sibling.git"));
    gitIn(otherRoot, "clone", "-q", "--bare", inside.bare, join(otherRoot, "other.git"));
    const overHttp = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "over http",
      config: { url: `${http.url}/parent.git`, submodules: true, allowPrivateNetwork: true },
      credentials: { token: "s3cret-token" },
    });
    expect(overHttp.status, JSON.stringify(overHttp.body)).toBe(201);
    const hid = overHttp.body.source.id;
    const synced = await settled(p, alice, hid);
    expect(synced.status, synced.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, hid)).toEqual([".gitmodules", "main.ts", "modules/sibling/ok.md"]);
    expect(await runItems(hid)).toContainEqual(
      expect.objectContaining({
        path: "modules/inside",
        kind: "skipped",
        reason: expect.stringContaining("on the ConHub server's disk"),
      }),
    );
    expect(http.requests.some((r) => r.includes("/sibling.git/"))).toBe(true);
    const items = await runItems(hid);
    // The other host was asked without the token, and refused.
    expect(other.requests.some((r) => r.includes("/other.git/"))).toBe(true);
    expect(items).toContainEqual(
      expect.objectContaining({
        path: "modules/other",
        kind: "error",
        reason: expect.stringContaining("refused access"),
      }),
    );
    expect(items).toContainEqual(
      expect.objectContaining({
        path: "modules/private",
        kind: "skipped",
        reason: expect.stringContaining("DATA_ALLOW_PRIVATE_NETWORKS"),
      }),
    );
    expect(synced.lastRun.progress.errors).toBe(1);
  }, 180_000);

  it("keeps a submodule's files when its repository cannot be fetched, and catches up once it can", async () => {
    const lib = repoIn(roots, "flaky-lib", { "core.ts": "export const firstkoalarelease = 1;\n" });
    const app = repoIn(roots, "flaky-app", { "main.ts": "export const emuApp = 1;\n" });
    addSubmodule(app.work, lib.bare, "modules/lib");
    app.commit("add lib");
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "flaky",
      config: { url: app.bare, submodules: true },
    });
    const id = created.body.source.id;
    const first = await settled(p, alice, id);
    expect(await documentPaths(p, alice, id)).toEqual([".gitmodules", "main.ts", "modules/lib/core.ts"]);

    // The submodule moves to a commit its (now missing) repository alone has.
    writeFiles(lib.work, { "core.ts": "export const secondkoalarelease = 2;\n" });
    lib.commit("v2");
    gitIn(join(app.work, "modules/lib"), "-c", "protocol.file.allow=always", "pull", "-q", "origin", "main");
    const bumped = app.commit("bump lib");
    renameSync(lib.bare, `${lib.bare}.away`);
    const failed = await syncNow(p, alice, id);
    expect(failed.status, failed.statusMessage).toBe("idle");
    expect(failed.lastRun.progress.errors).toBe(1);
    expect(await runItems(id)).toContainEqual(
      expect.objectContaining({
        path: "modules/lib",
        kind: "error",
        reason: expect.stringContaining("the submodule could not be fetched"),
      }),
    );
    // Nothing was lost, and the cursor stays where everything was indexed, so the next sync retries.
    expect(await documentPaths(p, alice, id)).toEqual([".gitmodules", "main.ts", "modules/lib/core.ts"]);
    expect(await searchPaths(p, alice, id, "firstkoalarelease")).toEqual(["modules/lib/core.ts"]);
    expect(failed.cursor).toBe(first.cursor);

    renameSync(`${lib.bare}.away`, lib.bare);
    const recovered = await syncNow(p, alice, id);
    expect(recovered.lastRun.progress.errors).toBe(0);
    expect(recovered.cursor).toBe(bumped);
    expect(await searchPaths(p, alice, id, "secondkoalarelease")).toEqual(["modules/lib/core.ts"]);
    expect(await searchPaths(p, alice, id, "firstkoalarelease")).toEqual([]);
  }, 180_000);
});
