import { createHmac, randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { JobQueue } from "@conhub/storage";
import { openQueueFromSpec, startTcpProxy, type TcpProxy } from "@conhub/storage/testing";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { freePorts, tempDir } from "../support/processes.js";
import {
  type Caller,
  type DataPlatform,
  gitIn,
  gitRepo,
  searchPaths,
  settled,
  startDataPlatform,
  stores,
  writeFiles,
} from "./data-helpers.js";

/**
 * The webhook service for real, split from the data platform (auth, indexer,
 * data service) as in a scaled deployment, behind the one-process gateway:
 * signed deliveries from GitHub, GitLab and Bitbucket, replays, oversize
 * bodies, unknown sources, the delivery log and its redelivery, Stripe, and
 * the end to end path from a `git push` to searchable content.
 */

const JWT_SECRET = "webhook-tests-master-secret-0123456789abcdef";
const STRIPE_SECRET = "whsec_test_secret_for_conhub_webhook_tests";

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field.
  body: any;
  text: string;
  headers: Headers;
}

async function send(url: string, init: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, body, text, headers: res.headers };
}

/** A POST on a fresh connection (node:http, no keep-alive pool), for bodies the server refuses early. */
function rawPost(url: string, headers: Record<string, string>, body: string) {
  return new Promise<Reply>((resolve, reject) => {
    const req = request(url, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined, text, headers: h });
      });
    });
    // The server may close before the whole body is written.
    req.on("error", (err) => reject(err));
    req.end(body);
  });
}

const hmac = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");

/** A GitHub push payload as GitHub documents it (the fields we read, and a few around them). */
function githubPush(options: {
  ref?: string;
  commits?: Array<{ added?: string[]; modified?: string[]; removed?: string[] }>;
  forced?: boolean;
  deleted?: boolean;
  before?: string;
  after?: string;
}) {
  const commits = (options.commits ?? []).map((c, i) => ({
    id: `${i}`.padStart(40, "a"),
    message: `commit ${i}`,
    distinct: true,
    added: c.added ?? [],
    modified: c.modified ?? [],
    removed: c.removed ?? [],
  }));
  return {
    ref: options.ref ?? "refs/heads/main",
    before: options.before ?? "1".repeat(40),
    after: options.after ?? "2".repeat(40),
    created: false,
    deleted: options.deleted ?? false,
    forced: options.forced ?? false,
    base_ref: null,
    compare: "https://github.com/acme/repo/compare/1...2",
    commits,
    head_commit: commits[commits.length - 1] ?? null,
    repository: { id: 1, name: "repo", full_name: "acme/repo", default_branch: "main" },
    pusher: { name: "octocat", email: "octocat@example.com" },
    sender: { login: "octocat" },
  };
}

function githubHeaders(secret: string | undefined, body: string, event = "push", delivery = randomUUID()) {
  return {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/abc123",
    "x-github-event": event,
    "x-github-delivery": delivery,
    "x-github-hook-id": "42",
    ...(secret === undefined ? {} : { "x-hub-signature-256": `sha256=${hmac(secret, body)}` }),
  };
}

describe.each(stores)("webhook service ($name)", ({ env: storeEnv }) => {
  let p: DataPlatform;
  let hooks: Platform;
  let gateway: string;
  let alice: Caller;
  let bob: Caller;

  const api = (caller: Caller | undefined, method: string, path: string, body?: unknown) =>
    send(`${gateway}${path}`, {
      method,
      headers: {
        ...(caller ? { authorization: `Bearer ${caller.key}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  /** Waits until the delivery has been processed (or ignored, or failed). */
  async function processed(caller: Caller, id: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await api(caller, "GET", `/api/webhooks/deliveries/${id}`);
      expect(res.status, res.text).toBe(200);
      const d = res.body.delivery;
      if (d.status !== "received" && d.status !== "queued") return d;
      if (Date.now() > deadline) throw new Error(`delivery ${id} was not processed: ${res.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function gitSource(caller: Caller, url: string, branch?: string) {
    const created = await api(caller, "POST", "/api/data/sources", {
      type: "git",
      name: `repo ${randomUUID().slice(0, 8)}`,
      config: { url, ...(branch ? { branch } : {}) },
    });
    expect(created.status, created.text).toBe(201);
    const source = created.body.source;
    await settled(p, caller, source.id);
    return { id: source.id as string, secret: source.webhook.secret as string };
  }

  const runsOf = async (caller: Caller, id: string) => {
    const res = await api(caller, "GET", `/api/data/sources/${id}/runs?limit=100`);
    expect(res.status, res.text).toBe(200);
    return res.body.runs as Array<{ trigger: string; mode: string; paths?: number; status: string }>;
  };

  beforeAll(async () => {
    p = await startDataPlatform(storeEnv, { JWT_SECRET });
    hooks = await startPlatform({
      targets: ["webhook-service"],
      gateway: true,
      env: {
        ...p.env,
        JWT_SECRET,
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
        WEBHOOK_PROCESS_ATTEMPTS: "2",
        // Above HTTP_BODY_LIMIT_BYTES (1 MiB): provider routes have their own limit.
        WEBHOOK_MAX_BODY_BYTES: String(2 * 1024 * 1024),
      },
    });
    gateway = `http://127.0.0.1:${hooks.ports.gateway}`;
    alice = await p.signUp(`alice-${Date.now()}@example.com`);
    bob = await p.signUp(`bob-${Date.now()}@example.com`);
  }, 180_000);
  afterAll(async () => {
    await hooks?.stop();
    await p?.stop();
  });

  it("end to end: a signed GitHub push through the gateway makes the commit searchable and the old content gone", async () => {
    const repo = gitRepo({
      "src/engine.ts": "export function quokkaCartography() { return 'walrus'; }\n",
      "docs/guide.md": "# Guide\n\nThe marmoset protocol is deprecated.\n",
      "src/keep.py": "def untouched_helper():\n    return 1\n",
    });
    const source = await gitSource(alice, repo.bare);
    const before = gitIn(repo.work, "rev-parse", "HEAD");
    expect(await searchViaGateway(alice, source.id, "quokkaCartography")).toEqual(["src/engine.ts"]);
    expect(await searchViaGateway(alice, source.id, "marmoset")).toEqual(["docs/guide.md"]);

    // One commit: a modification, an addition and a deletion, pushed to the bare repository.
    writeFiles(repo.work, {
      "src/engine.ts": "export function pangolinAstronomy() { return 'narwhal'; }\n",
      "src/added.rs": "pub fn calibrate_tachyon_lens() -> u8 { 3 }\n",
    });
    rmSync(join(repo.work, "docs/guide.md"));
    const after = repo.commit("modify, add, delete");
    const body = JSON.stringify(
      githubPush({
        before,
        after,
        commits: [{ added: ["src/added.rs"], modified: ["src/engine.ts"], removed: ["docs/guide.md"] }],
      }),
    );
    const sent = performance.now();
    const res = await send(`${gateway}/api/webhooks/github/${source.id}`, {
      method: "POST",
      headers: githubHeaders(source.secret, body),
      body,
    });
    expect(res.status, res.text).toBe(202);

    // Poll search until the new content is searchable and the old content is gone.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const fresh = await searchViaGateway(alice, source.id, "pangolinAstronomy");
      const added = await searchViaGateway(alice, source.id, "calibrate_tachyon_lens");
      const stale = await searchViaGateway(alice, source.id, "quokkaCartography");
      const deleted = await searchViaGateway(alice, source.id, "marmoset");
      if (fresh.length > 0 && added.length > 0 && stale.length === 0 && deleted.length === 0) {
        expect(fresh).toEqual(["src/engine.ts"]);
        expect(added).toEqual(["src/added.rs"]);
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`not searchable in time: ${JSON.stringify({ fresh, added, stale, deleted })}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const latencyMs = performance.now() - sent;
    expect(await searchViaGateway(alice, source.id, "untouched_helper")).toEqual(["src/keep.py"]);
    const delivery = await processed(alice, res.body.id);
    expect(delivery).toMatchObject({
      provider: "github",
      event: "push",
      status: "processed",
      verified: true,
    });
    expect(delivery.summary.refs[0]).toMatchObject({ kind: "branch", name: "main", commits: 1, paths: 3 });
    const runs = await runsOf(alice, source.id);
    expect(runs[0]).toMatchObject({ trigger: "webhook", mode: "incremental", paths: 3 });
    console.info(`webhook → searchable: ${Math.round(latencyMs)} ms`);
  }, 120_000);

  async function searchViaGateway(caller: Caller, sourceId: string, query: string) {
    return searchPaths({ call: (c, m, path, b) => api(c, m, path, b) }, caller, sourceId, query);
  }

  it("GitHub: valid, invalid and missing signatures; a replay is recognised and has no effect", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare);
    const url = `${gateway}/api/webhooks/github/${source.id}`;
    const body = JSON.stringify(githubPush({ commits: [{ modified: ["a.txt"] }] }));

    const missing = await send(url, { method: "POST", headers: githubHeaders(undefined, body), body });
    expect(missing.status, missing.text).toBe(401);
    expect(missing.headers.get("content-type")).toContain("application/problem+json");
    expect(missing.body.detail).toContain("x-hub-signature-256");
    const wrong = await send(url, { method: "POST", headers: githubHeaders("not-the-secret", body), body });
    expect(wrong.status, wrong.text).toBe(401);
    // Signed over other bytes than those sent: the raw body is what is verified.
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    const tampered = await send(url, {
      method: "POST",
      headers: githubHeaders(source.secret, body),
      body: reformatted,
    });
    expect(tampered.status, tampered.text).toBe(401);
    expect(JSON.stringify([missing.body, wrong.body, tampered.body])).not.toContain(source.secret);

    const delivery = randomUUID();
    const ok = await send(url, {
      method: "POST",
      headers: githubHeaders(source.secret, body, "push", delivery),
      body,
    });
    expect(ok.status, ok.text).toBe(202);
    expect(ok.body).toMatchObject({ received: true });
    const first = await processed(alice, ok.body.id);
    expect(first.status, first.statusMessage).toBe("processed");
    await settled(p, alice, source.id);
    const runsAfterFirst = await runsOf(alice, source.id);
    expect(runsAfterFirst[0]).toMatchObject({ trigger: "webhook", mode: "incremental", paths: 1 });

    // The same delivery again (GitHub's "Redeliver" keeps the delivery id): no new effect.
    const replay = await send(url, {
      method: "POST",
      headers: githubHeaders(source.secret, body, "push", delivery),
      body,
    });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body).toEqual({ duplicate: true, id: ok.body.id });
    await new Promise((r) => setTimeout(r, 500));
    const s = await settled(p, alice, source.id);
    expect(s.pendingSync).toBeNull();
    expect(await runsOf(alice, source.id)).toHaveLength(runsAfterFirst.length);

    // The log: the two rejected tries (without their body) and the accepted one; the replay added nothing.
    const log = await api(alice, "GET", `/api/webhooks/deliveries?sourceId=${source.id}`);
    expect(log.status, log.text).toBe(200);
    expect(log.body.deliveries).toHaveLength(4);
    const rejected = log.body.deliveries.filter((d: { status: string }) => d.status === "rejected");
    expect(rejected).toHaveLength(3);
    for (const d of rejected) expect(d).toMatchObject({ verified: false, provider: "github" });
    const detail = await api(alice, "GET", `/api/webhooks/deliveries/${rejected[0].id}`);
    expect(detail.body.delivery).toMatchObject({ bodyBytes: null, redeliverable: false });
    expect(detail.body.delivery.verifyReason).toMatch(/x-hub-signature-256/);
  }, 120_000);

  it("a flood of bad signatures to one source is cut off: 429 after 60 rejections in 10 minutes, not logged", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare);
    const url = `${gateway}/api/webhooks/github/${source.id}`;
    const body = JSON.stringify(githubPush({ commits: [{ modified: ["a.txt"] }] }));
    const statuses: number[] = [];
    for (let i = 0; i < 62; i++) {
      const res = await send(url, { method: "POST", headers: githubHeaders("forged", body), body });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(60);
    expect(statuses.slice(60)).toEqual([429, 429]);
    const log = await api(alice, "GET", `/api/webhooks/deliveries?sourceId=${source.id}&limit=100`);
    expect(log.status, log.text).toBe(200);
    expect(log.body.deliveries).toHaveLength(60);
    // A correctly signed delivery still gets through: the limit counts rejections only.
    const ok = await send(url, { method: "POST", headers: githubHeaders(source.secret, body), body });
    expect(ok.status, ok.text).toBe(202);
  }, 120_000);

  it("GitLab and Bitbucket: valid, invalid and missing signatures", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare);

    // GitLab: X-Gitlab-Token is the secret itself.
    const gitlabUrl = `${gateway}/api/webhooks/gitlab/${source.id}`;
    const gitlabBody = JSON.stringify({
      object_kind: "push",
      event_name: "push",
      before: "1".repeat(40),
      after: "2".repeat(40),
      ref: "refs/heads/main",
      total_commits_count: 1,
      project: { id: 7, name: "repo", default_branch: "main" },
      commits: [{ id: "2".repeat(40), added: ["b.txt"], modified: ["a.txt"], removed: [] }],
    });
    const gitlab = (token: string | undefined, uuid = randomUUID()) =>
      send(gitlabUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-gitlab-event": "Push Hook",
          "x-gitlab-event-uuid": uuid,
          ...(token === undefined ? {} : { "x-gitlab-token": token }),
        },
        body: gitlabBody,
      });
    expect((await gitlab(undefined)).status).toBe(401);
    expect((await gitlab(`${source.secret}x`)).status).toBe(401);
    expect((await gitlab(source.secret.slice(0, 10))).status).toBe(401);
    const gl = await gitlab(source.secret);
    expect(gl.status, gl.text).toBe(202);
    const glDelivery = await processed(alice, gl.body.id);
    expect(glDelivery).toMatchObject({ provider: "gitlab", event: "Push Hook", status: "processed" });
    expect(glDelivery.summary.refs[0]).toMatchObject({ name: "main", paths: 2 });

    // Bitbucket Cloud: X-Hub-Signature: sha256=<hmac>; its payload lists commits, not files.
    const bbUrl = `${gateway}/api/webhooks/bitbucket/${source.id}`;
    const bbBody = JSON.stringify({
      repository: { full_name: "acme/repo", mainbranch: { name: "main" } },
      push: {
        changes: [
          {
            new: { type: "branch", name: "main", target: { hash: "2".repeat(40) } },
            old: { type: "branch", name: "main", target: { hash: "1".repeat(40) } },
            created: false,
            closed: false,
            forced: false,
            truncated: false,
            commits: [{ hash: "2".repeat(40) }],
          },
        ],
      },
    });
    const bitbucket = (signature: string | undefined) =>
      send(bbUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-event-key": "repo:push",
          "x-request-uuid": randomUUID(),
          ...(signature === undefined ? {} : { "x-hub-signature": signature }),
        },
        body: bbBody,
      });
    expect((await bitbucket(undefined)).status).toBe(401);
    expect((await bitbucket(`sha256=${hmac("wrong", bbBody)}`)).status).toBe(401);
    expect((await bitbucket(hmac(source.secret, bbBody))).status).toBe(401);
    const bb = await bitbucket(`sha256=${hmac(source.secret, bbBody)}`);
    expect(bb.status, bb.text).toBe(202);
    const bbDelivery = await processed(alice, bb.body.id);
    expect(bbDelivery).toMatchObject({ provider: "bitbucket", event: "repo:push", status: "processed" });
    expect(bbDelivery.summary.refs[0]).toMatchObject({ name: "main", paths: null, commits: 1 });
    await settled(p, alice, source.id);
    const runs = await runsOf(alice, source.id);
    expect(runs.filter((r) => r.trigger === "webhook").length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("pushes to another branch, tags, pings and pull requests are recorded as ignored", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare, "main");
    const runsBefore = (await runsOf(alice, source.id)).length;
    const cases: Array<{ event: string; payload: unknown; reason: RegExp }> = [
      {
        event: "push",
        payload: githubPush({ ref: "refs/heads/feature", commits: [{ modified: ["a.txt"] }] }),
        reason: /push to feature; the source tracks main/,
      },
      { event: "push", payload: githubPush({ ref: "refs/tags/v1.0.0" }), reason: /tag push \(v1\.0\.0\)/ },
      { event: "ping", payload: { zen: "Keep it logically awesome.", hook_id: 42 }, reason: /ping events/ },
      {
        event: "pull_request",
        payload: { action: "opened", number: 1, repository: { default_branch: "main" } },
        reason: /pull_request events/,
      },
    ];
    for (const c of cases) {
      const body = JSON.stringify(c.payload);
      const res = await send(`${gateway}/api/webhooks/github/${source.id}`, {
        method: "POST",
        headers: githubHeaders(source.secret, body, c.event),
        body,
      });
      expect(res.status, res.text).toBe(202);
      const d = await processed(alice, res.body.id);
      expect(d.status, JSON.stringify(d)).toBe("ignored");
      expect(d.statusMessage).toMatch(c.reason);
    }
    const s = await settled(p, alice, source.id);
    expect(s.pendingSync).toBeNull();
    expect(await runsOf(alice, source.id)).toHaveLength(runsBefore);
    const ignored = await api(alice, "GET", `/api/webhooks/deliveries?sourceId=${source.id}&status=ignored`);
    expect(ignored.body.deliveries).toHaveLength(4);
  }, 120_000);

  it("unknown sources, sources of another type and bad ids get a 404 that reveals nothing; oversize bodies 413", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare);
    const body = JSON.stringify(githubPush({}));
    const unknownId = `src_${"0".repeat(24)}`;
    const unknown = await send(`${gateway}/api/webhooks/github/${unknownId}`, {
      method: "POST",
      headers: githubHeaders("anything", body),
      body,
    });
    expect(unknown.status).toBe(404);
    const noRoute = await send(`${gateway}/api/webhooks/github/${unknownId}/nothing-here`, {
      method: "POST",
      headers: githubHeaders("anything", body),
      body,
    });
    expect(noRoute.status).toBe(404);
    // The router's own answer for a path it does not know: nothing says a source was looked up.
    expect(unknown.body.detail).toBe(`No route matches POST /api/webhooks/github/${unknownId}.`);
    expect({ type: unknown.body.type, title: unknown.body.title }).toEqual({
      type: noRoute.body.type,
      title: noRoute.body.title,
    });
    expect(unknown.text).not.toMatch(/source/i);
    // A git source is not a Dropbox or Drive source; a malformed id is no source at all.
    for (const path of [`dropbox/${source.id}`, `gdrive/${source.id}`, "github/not-an-id"]) {
      const res = await send(`${gateway}/api/webhooks/${path}`, { method: "POST", body: "{}" });
      expect(res.status, path).toBe(404);
      expect(res.text).not.toMatch(/source/i);
    }
    const challenge = await send(`${gateway}/api/webhooks/dropbox/${source.id}?challenge=abc`, {});
    expect(challenge.status).toBe(404);

    // Provider routes take up to WEBHOOK_MAX_BODY_BYTES (2 MiB here), more than other routes' 1 MiB…
    const large = JSON.stringify({
      ...githubPush({ ref: "refs/heads/other" }),
      padding: "x".repeat(1_500_000),
    });
    const accepted = await send(`${gateway}/api/webhooks/github/${source.id}`, {
      method: "POST",
      headers: githubHeaders(source.secret, large),
      body: large,
    });
    expect(accepted.status, accepted.text.slice(0, 300)).toBe(202);
    // …and refuse more, before reading the rest, on a connection of its own (the server closes it).
    const big = JSON.stringify({ ...githubPush({}), padding: "x".repeat(2_200_000) });
    const tooBig = await rawPost(
      `${gateway}/api/webhooks/github/${source.id}`,
      githubHeaders(source.secret, big),
      big,
    );
    expect(tooBig.status, tooBig.text.slice(0, 300)).toBe(413);
    expect(tooBig.headers.get("content-type")).toContain("application/problem+json");
  }, 120_000);

  it("the delivery log is for the organization's admins only", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare);
    const body = JSON.stringify(githubPush({ ref: "refs/heads/other" }));
    const res = await send(`${gateway}/api/webhooks/github/${source.id}`, {
      method: "POST",
      headers: githubHeaders(source.secret, body),
      body,
    });
    const id = res.body.id;
    await processed(alice, id);
    expect((await api(undefined, "GET", "/api/webhooks/deliveries")).status).toBe(401);
    expect((await api(bob, "GET", `/api/webhooks/deliveries/${id}`)).status).toBe(404);
    expect((await api(bob, "POST", `/api/webhooks/deliveries/${id}/redeliver`)).status).toBe(404);
    const bobs = await api(bob, "GET", "/api/webhooks/deliveries");
    expect(bobs.body.deliveries.map((d: { id: string }) => d.id)).not.toContain(id);
    const member = await p.signUp(`carol-${Date.now()}@example.com`, ["sources:read"]);
    expect((await api(member, "GET", "/api/webhooks/deliveries")).status).toBe(403);
    const bad = await api(alice, "GET", "/api/webhooks/deliveries?limit=1000&status=nope");
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((f: { field: string }) => f.field).sort()).toEqual([
      "query.limit",
      "query.status",
    ]);
    // Only failed processing can be redelivered.
    const again = await api(alice, "POST", `/api/webhooks/deliveries/${id}/redeliver`);
    expect(again.status, again.text).toBe(409);
    // Pages follow each other without overlap.
    const page1 = await api(alice, "GET", "/api/webhooks/deliveries?limit=2");
    expect(page1.body.deliveries).toHaveLength(2);
    const page2 = await api(alice, "GET", `/api/webhooks/deliveries?limit=2&cursor=${page1.body.next}`);
    expect(page2.status, page2.text).toBe(200);
    const ids1 = page1.body.deliveries.map((d: { id: string }) => d.id);
    for (const d of page2.body.deliveries) expect(ids1).not.toContain(d.id);
  }, 60_000);

  it("internal data-service routes need a service token and are not reachable through the gateway", async () => {
    const repo = gitRepo({ "a.txt": "first\n" });
    const source = await gitSource(alice, repo.bare);
    const dataBase = p.base;
    const none = await send(`${dataBase}/internal/sources/${source.id}/webhook`, {});
    expect(none.status).toBe(401);
    const token = createHmac("sha256", JWT_SECRET)
      .update("conhub-service-token v1:mcp-service:data-service")
      .digest("hex");
    const otherCaller = await send(`${dataBase}/internal/sources/${source.id}/webhook`, {
      headers: { authorization: `ConHub-Service mcp-service:${token}` },
    });
    expect(otherCaller.status).toBe(401);
    const userKey = await send(`${dataBase}/internal/sources/${source.id}/webhook`, {
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(userKey.status).toBe(401);
    const viaGateway = await send(`${gateway}/internal/sources/${source.id}/webhook`, {});
    expect(viaGateway.status).not.toBe(200);
    expect(viaGateway.text).not.toContain(source.secret);
    const good = createHmac("sha256", JWT_SECRET)
      .update("conhub-service-token v1:webhook-service:data-service")
      .digest("hex");
    const ok = await send(`${dataBase}/internal/sources/${source.id}/webhook`, {
      headers: { authorization: `ConHub-Service webhook-service:${good}` },
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ sourceId: source.id, organizationId: alice.orgId, type: "git" });
    expect(ok.body.secret).toBe(source.secret);
  }, 60_000);

  it("Stripe: verified with the Stripe SDK, handed to billing on the durable queue, replays ignored", async () => {
    const url = `${gateway}/api/webhooks/stripe`;
    const eventId = `evt_${randomUUID().replaceAll("-", "")}`;
    const payload = JSON.stringify({
      id: eventId,
      object: "event",
      type: "invoice.paid",
      api_version: "2025-01-01",
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      data: { object: { id: "in_123", object: "invoice" } },
    });
    const header = (secret: string, timestamp?: number) =>
      Stripe.webhooks.generateTestHeaderString({
        payload,
        secret,
        ...(timestamp ? { timestamp } : {}),
      });
    const post = (headers: Record<string, string>) =>
      send(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: payload,
      });
    expect((await post({})).status).toBe(401);
    expect((await post({ "stripe-signature": header("whsec_wrong") })).status).toBe(401);
    const stale = await post({
      "stripe-signature": header(STRIPE_SECRET, Math.floor(Date.now() / 1000) - 600),
    });
    expect(stale.status).toBe(401);
    expect(stale.body.detail).toMatch(/tolerance/i);

    const queue: JobQueue = await openQueueFromSpec(
      p.env.REDIS_URL
        ? // The platform's Redis keys start with `conhub:<database>:` (REDIS_KEY_PREFIX unset).
          {
            kind: "redis",
            url: p.env.REDIS_URL,
            prefix: `conhub:${new URL(p.env.DATABASE_URL!).pathname.slice(1)}:`,
          }
        : { kind: "sqlite", path: join(p.dataDir, "queue.db"), pollMs: 50 },
    );
    const seen: Array<{ eventId: string; type: string }> = [];
    const worker = queue.work<{ eventId: string; type: string }>("billing.stripe-events", async (job) => {
      seen.push(job.payload);
    });
    try {
      const ok = await post({ "stripe-signature": header(STRIPE_SECRET) });
      expect(ok.status, ok.text).toBe(200);
      const replay = await post({ "stripe-signature": header(STRIPE_SECRET) });
      expect(replay.status, replay.text).toBe(200);
      expect(replay.body).toMatchObject({ duplicate: true, id: ok.body.id });
      const deadline = Date.now() + 20_000;
      while (!seen.some((e) => e.eventId === eventId) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 500));
      expect(seen.filter((e) => e.eventId === eventId)).toEqual([
        { ...seen[0], eventId, type: "invoice.paid" },
      ]);
    } finally {
      await worker.stop(1000);
      await queue.close();
    }
  }, 60_000);

  it("a delivery whose processing failed is redelivered once the data service is back", async () => {
    // A second webhook service (own storage) that reaches the data service through a proxy we can cut.
    const proxy: TcpProxy = await startTcpProxy("127.0.0.1", Number(new URL(p.base).port));
    const [port, gatewayPort] = await freePorts(2);
    const dir = tempDir("conhub-webhooks-");
    const solo = await startPlatform({
      targets: ["webhook-service"],
      gateway: true,
      env: {
        ...Object.fromEntries(
          Object.entries(p.env).filter(([k]) => k !== "DATABASE_URL" && k !== "REDIS_URL"),
        ),
        JWT_SECRET,
        CONHUB_DATA_DIR: dir,
        WEBHOOK_SERVICE_PORT: String(port),
        GATEWAY_PORT: String(gatewayPort),
        DATA_SERVICE_URL: `http://127.0.0.1:${proxy.port}`,
        WEBHOOK_SOURCE_CACHE_MS: "600000",
        WEBHOOK_PROCESS_ATTEMPTS: "2",
      },
    });
    const base = `http://127.0.0.1:${solo.ports.gateway}`;
    try {
      // Stripe is not configured on this one.
      const stripe = await send(`${base}/api/webhooks/stripe`, { method: "POST", body: "{}" });
      expect(stripe.status).toBe(503);
      expect(stripe.body.detail).toMatch(/Stripe webhooks are not configured/);

      const repo = gitRepo({ "a.txt": "first\n" });
      const source = await gitSource(alice, repo.bare);
      const deliver = async (paths: string[]) => {
        const body = JSON.stringify(githubPush({ commits: [{ modified: paths }] }));
        const res = await send(`${base}/api/webhooks/github/${source.id}`, {
          method: "POST",
          headers: githubHeaders(source.secret, body),
          body,
        });
        expect(res.status, res.text).toBe(202);
        return res.body.id as string;
      };
      const logged = async (id: string, statuses: string[]) => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          const res = await send(`${base}/api/webhooks/deliveries/${id}`, {
            headers: { authorization: `Bearer ${alice.key}` },
          });
          expect(res.status, res.text).toBe(200);
          if (statuses.includes(res.body.delivery.status)) return res.body.delivery;
          if (Date.now() > deadline) throw new Error(`delivery ${id}: ${res.text}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      // The first delivery caches the source's context (secret, branch).
      expect((await logged(await deliver(["a.txt"]), ["processed"])).status).toBe("processed");
      await settled(p, alice, source.id);

      await proxy.stop();
      const id = await deliver(["b.txt"]);
      const failed = await logged(id, ["failed"]);
      expect(failed).toMatchObject({ attempts: 2, redeliverable: true, verified: true });
      expect(failed.statusMessage).toMatch(/after 2 attempt/);

      await proxy.start();
      const redeliver = await send(`${base}/api/webhooks/deliveries/${id}/redeliver`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice.key}` },
      });
      expect(redeliver.status, redeliver.text).toBe(202);
      const done = await logged(id, ["processed", "failed"]);
      expect(done.status, done.statusMessage).toBe("processed");
      expect(done.attempts).toBe(3);
      await settled(p, alice, source.id);
      const runs = await runsOf(alice, source.id);
      expect(runs[0]).toMatchObject({ trigger: "webhook", mode: "incremental", paths: 1 });
    } finally {
      await solo.stop();
      await proxy.close();
    }
  }, 120_000);
});
