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
 * Git sources for real: a bare repository on disk and the same over smart
 * HTTP (`git http-backend` behind a local server that wants a token). The
 * first sync lists the branch's tree; later ones diff commits, and the index
 * must then hold exactly the new state after adds, edits, renames and
 * deletions. Branch selection, private repositories (a wrong or missing
 * token is an `error` with a message to act on), a force push, and
 * private-address refusal.
 */
describe.each(stores)("data service: git sources ($name)", ({ env: storeEnv }) => {
  let p: DataPlatform;
  let alice: Caller;
  let http: { url: string; server: Server; requests: string[] };
  const httpRoot = tempDir("conhub-git-http-");

  beforeAll(async () => {
    // Tests serve git on 127.0.0.1: only that address is allowed, and only for sources that ask.
    p = await startDataPlatform(storeEnv, { DATA_ALLOW_PRIVATE_NETWORKS: "127.0.0.1/32" });
    alice = await p.signUp(`alice-${Date.now()}@example.com`);
    http = await gitHttpServer(httpRoot, "s3cret-token");
  }, 120_000);
  afterAll(async () => {
    await new Promise((r) => http?.server.close(r));
    await p?.stop();
  });

  it("syncs a bare repository on disk, then each commit incrementally to exactly the new state", async () => {
    const repo = gitRepo({
      "src/app.ts": "export function startApplicationServer() { return 'listening'; }\n",
      "src/old_module.py": "def compute_legacy_checksum():\n    return 42\n",
      "README.md": "# Project\n\nDeployment uses blue-green switching.\n",
      "CHANGELOG.md": "## 1.0\n\nFirst stable pelican release.\n",
    });
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "repo on disk",
      config: { url: repo.bare },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.source.id;
    let source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    const head1 = gitIn(repo.work, "rev-parse", "HEAD");
    expect(source.cursor).toBe(head1);
    expect(source.lastRun).toMatchObject({ mode: "full", status: "succeeded", cursorTo: head1 });
    expect(source.lastRun.progress).toMatchObject({ changed: 4, indexed: 4, total: 4 });
    expect(await documentPaths(p, alice, id)).toEqual([
      "CHANGELOG.md",
      "README.md",
      "src/app.ts",
      "src/old_module.py",
    ]);

    // A commit with an add, an edit, a rename and a delete.
    writeFiles(repo.work, {
      "src/feature.rs": "pub fn orchestrate_quantum_flux() -> u32 { 7 }\n",
      "README.md": "# Project\n\nDeployment uses canary releases now.\n",
    });
    mkdirSync(join(repo.work, "lib"), { recursive: true });
    renameSync(join(repo.work, "src/old_module.py"), join(repo.work, "lib/checksums.py"));
    rmSync(join(repo.work, "CHANGELOG.md"));
    const head2 = repo.commit("second");
    source = await syncNow(p, alice, id);
    expect(source.lastRun).toMatchObject({
      mode: "incremental",
      status: "succeeded",
      cursorFrom: head1,
      cursorTo: head2,
    });
    // Only the diff was looked at: 3 upserts (feature, README, the renamed file) and 2 deletions.
    expect(source.lastRun.progress).toMatchObject({ seen: 3, changed: 3, deleted: 2, unchanged: 0 });
    expect(await documentPaths(p, alice, id)).toEqual([
      "README.md",
      "lib/checksums.py",
      "src/app.ts",
      "src/feature.rs",
    ]);
    expect(await searchPaths(p, alice, id, "orchestrate_quantum_flux")).toEqual(["src/feature.rs"]);
    expect(await searchPaths(p, alice, id, "compute_legacy_checksum")).toEqual(["lib/checksums.py"]);
    expect(await searchPaths(p, alice, id, "canary")).toEqual(["README.md"]);
    expect(await searchPaths(p, alice, id, "blue-green")).toEqual([]);
    expect(await searchPaths(p, alice, id, "pelican")).toEqual([]);

    // Nothing new: nothing to do.
    source = await syncNow(p, alice, id);
    expect(source.lastRun.progress).toMatchObject({ seen: 0, changed: 0, deleted: 0 });

    // A force push that drops the last commit: the old cursor is gone from the new history,
    // the diff still works from the objects kept, and the index returns to the first state.
    gitIn(repo.work, "reset", "-q", "--hard", head1);
    gitIn(repo.work, "push", "-q", "-f", repo.bare, "main:main");
    source = await syncNow(p, alice, id);
    expect(source.cursor).toBe(head1);
    expect(await documentPaths(p, alice, id)).toEqual([
      "CHANGELOG.md",
      "README.md",
      "src/app.ts",
      "src/old_module.py",
    ]);
    expect(await searchPaths(p, alice, id, "orchestrate_quantum_flux")).toEqual([]);

    // A full sync on demand lists the whole tree again and finds everything unchanged.
    source = await syncNow(p, alice, id, { mode: "full" });
    expect(source.lastRun.progress).toMatchObject({ seen: 4, unchanged: 4, changed: 0, deleted: 0 });
  }, 120_000);

  it("tracks the branch asked for", async () => {
    const repo = gitRepo({ "main.txt": "on the main branch\n" });
    gitIn(repo.work, "checkout", "-q", "-b", "release");
    writeFiles(repo.work, { "release.txt": "only on the release branch: marmalade\n" });
    gitIn(repo.work, "add", "-A");
    gitIn(repo.work, "commit", "-q", "-m", "release");
    gitIn(repo.work, "push", "-q", repo.bare, "release:release");
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "release",
      config: { url: `file://${repo.bare}`, branch: "release" },
    });
    const id = created.body.source.id;
    const source = await settled(p, alice, id);
    expect(source.status, source.statusMessage).toBe("idle");
    expect(await documentPaths(p, alice, id)).toEqual(["main.txt", "release.txt"]);
    const missing = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "no such branch",
      config: { url: repo.bare, branch: "nope" },
    });
    const failed = await settled(p, alice, missing.body.source.id);
    expect(failed.status).toBe("error");
    expect(failed.statusMessage).toMatch(/branch nope does not exist/);
  }, 60_000);

  it("clones a private repository over HTTP with a token, and says what to do without one", async () => {
    const repo = gitRepo({
      "private/secret-plan.md": "# Plan\n\nThe aardvark initiative launches Tuesday.\n",
    });
    renameSync(repo.bare, join(httpRoot, "plan.git"));
    const url = `${http.url}/plan.git`;

    const noToken = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "no token",
      config: { url, allowPrivateNetwork: true },
    });
    const refused = await settled(p, alice, noToken.body.source.id);
    expect(refused.status).toBe("error");
    expect(refused.statusMessage).toMatch(/refused access.*credentials\.token/);

    const wrong = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "wrong token",
      config: { url, allowPrivateNetwork: true },
      credentials: { token: "not-the-token" },
    });
    expect((await settled(p, alice, wrong.body.source.id)).statusMessage).toMatch(/refused access/);
    // Fix the token: the source recovers.
    const fixed = await p.call(alice, "PATCH", `/api/data/sources/${wrong.body.source.id}`, {
      credentials: { token: "s3cret-token" },
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    expect(fixed.body.source.hasCredentials).toBe(true);
    expect(JSON.stringify(fixed.body)).not.toContain("s3cret-token");
    const recovered = await settled(p, alice, wrong.body.source.id);
    expect(recovered.status, recovered.statusMessage).toBe("idle");
    expect(await searchPaths(p, alice, wrong.body.source.id, "aardvark")).toEqual(["private/secret-plan.md"]);
    // The smart HTTP protocol was used, shallow.
    expect(http.requests.some((r) => r.includes("git-upload-pack"))).toBe(true);
  }, 60_000);

  it("refuses a git server on a private address unless the source allows it (and the admin did)", async () => {
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "lan",
      config: { url: `${http.url}/plan.git` },
      credentials: { token: "s3cret-token" },
    });
    const source = await settled(p, alice, created.body.source.id);
    expect(source.status).toBe("error");
    expect(source.statusMessage).toMatch(
      /127\.0\.0\.1, a loopback address: sources may only reach public addresses/,
    );
    // Allowed by the source, but 127.0.0.2 is outside the admin's ranges (127.0.0.1/32).
    const other = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "lan 2",
      config: { url: `${http.url.replace("127.0.0.1", "127.0.0.2")}/plan.git`, allowPrivateNetwork: true },
    });
    const refused = await settled(p, alice, other.body.source.id);
    expect(refused.statusMessage).toMatch(/127\.0\.0\.2, a loopback address/);
  }, 60_000);

  it("shows the webhook secret to admins only, and never the credentials", async () => {
    const repo = gitRepo({ "a.txt": "a\n" });
    const created = await p.call(alice, "POST", "/api/data/sources", {
      type: "git",
      name: "hooks",
      config: { url: repo.bare },
      credentials: { token: "tok-123456" },
      sync: false,
    });
    expect(created.body.source.webhook.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(created.body)).not.toContain("tok-123456");
    // With the setup steps for each provider that can notify a git source.
    const id = created.body.source.id;
    expect(
      created.body.source.webhook.setup.map((s: { provider: string; path: string }) => [s.provider, s.path]),
    ).toEqual([
      ["github", `/api/webhooks/github/${id}`],
      ["gitlab", `/api/webhooks/gitlab/${id}`],
      ["bitbucket", `/api/webhooks/bitbucket/${id}`],
    ]);
    const reader = await p.signUp(`reader-${Date.now()}@example.com`, ["sources:read"]);
    // A reader of another organization cannot see it at all; in its own organization, no secret without admin.
    expect((await p.call(reader, "GET", `/api/data/sources/${created.body.source.id}`)).status).toBe(404);
    const own = await p.call(reader, "POST", "/api/data/sources", { type: "upload", name: "x", config: {} });
    expect(own.status).toBe(403);
  });
});
