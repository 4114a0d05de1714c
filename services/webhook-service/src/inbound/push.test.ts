import { describe, expect, it } from "vitest";
import { MAX_PUSH_PATHS, planSync, summarizePush } from "./push.js";

const githubPush = (extra: Record<string, unknown>) => ({
  ref: "refs/heads/main",
  before: "1".repeat(40),
  after: "2".repeat(40),
  created: false,
  deleted: false,
  forced: false,
  repository: { default_branch: "main" },
  commits: [
    { added: ["src/new.ts"], modified: ["README.md"], removed: [] },
    { added: [], modified: ["src/new.ts"], removed: ["old.txt"] },
  ],
  ...extra,
});

describe("push payloads → sync plans", () => {
  it("GitHub: the union of added, modified and removed paths of every commit", () => {
    const plan = planSync(summarizePush("github", "push", githubPush({})), undefined);
    expect(plan).toMatchObject({
      action: "sync",
      mode: "incremental",
      paths: ["README.md", "old.txt", "src/new.ts"],
    });
  });

  it("tracks the source's branch, else the repository's default branch", () => {
    const feature = summarizePush("github", "push", githubPush({ ref: "refs/heads/feature" }));
    expect(planSync(feature, undefined)).toMatchObject({
      action: "ignore",
      reason: /push to feature; the source tracks main/,
    });
    expect(planSync(feature, "feature")).toMatchObject({ action: "sync", mode: "incremental" });
    const main = summarizePush("github", "push", githubPush({}));
    expect(planSync(main, "release")).toMatchObject({ action: "ignore" });
  });

  it("tags, pings and other events are ignored with the reason", () => {
    expect(planSync(summarizePush("github", "push", githubPush({ ref: "refs/tags/v1" })), undefined)).toEqual(
      {
        action: "ignore",
        reason: "tag push (v1)",
      },
    );
    expect(planSync(summarizePush("github", "ping", { zen: "…" }), undefined)).toMatchObject({
      action: "ignore",
      reason: /ping events/,
    });
    expect(
      planSync(summarizePush("gitlab", "Merge Request Hook", { object_kind: "merge_request" }), undefined),
    ).toMatchObject({ action: "ignore" });
    expect(
      planSync(
        summarizePush("gitlab", "Tag Push Hook", {
          object_kind: "tag_push",
          ref: "refs/tags/v2",
          commits: [],
        }),
        undefined,
      ),
    ).toMatchObject({ action: "ignore", reason: "tag push (v2)" });
  });

  it("forced pushes, new branches and incomplete lists sync without a path list; a deleted branch fully", () => {
    expect(planSync(summarizePush("github", "push", githubPush({ forced: true })), undefined)).toEqual({
      action: "sync",
      mode: "incremental",
      reason: expect.stringMatching(/forced push/),
    });
    expect(
      planSync(summarizePush("github", "push", githubPush({ deleted: true, commits: [] })), undefined),
    ).toMatchObject({ action: "sync", mode: "full" });
    const many = Array.from({ length: MAX_PUSH_PATHS + 1 }, (_, i) => `f${i}.txt`);
    const plan = planSync(
      summarizePush("github", "push", githubPush({ commits: [{ added: many }] })),
      undefined,
    );
    expect(plan).toMatchObject({ action: "sync", mode: "incremental" });
    expect(plan).not.toHaveProperty("paths");
    // GitLab lists at most 20 commits: when total_commits_count says more, the list is partial.
    const gitlab = {
      object_kind: "push",
      ref: "refs/heads/main",
      before: "1".repeat(40),
      after: "2".repeat(40),
      total_commits_count: 25,
      project: { default_branch: "main" },
      commits: [{ added: ["a"], modified: [], removed: [] }],
    };
    expect(planSync(summarizePush("gitlab", "Push Hook", gitlab), undefined)).not.toHaveProperty("paths");
    expect(
      planSync(summarizePush("gitlab", "Push Hook", { ...gitlab, total_commits_count: 1 }), undefined),
    ).toMatchObject({ paths: ["a"] });
    expect(
      planSync(summarizePush("gitlab", "Push Hook", { ...gitlab, after: "0".repeat(40) }), undefined),
    ).toMatchObject({ mode: "full" });
  });

  it("Bitbucket: picks the change to the tracked branch; no file list in its payload", () => {
    const payload = {
      repository: { mainbranch: { name: "main" } },
      push: {
        changes: [
          { new: { type: "branch", name: "dev" }, old: { type: "branch", name: "dev" }, commits: [{}] },
          { new: { type: "branch", name: "main" }, old: { type: "branch", name: "main" }, commits: [{}, {}] },
        ],
      },
    };
    const summary = summarizePush("bitbucket", "repo:push", payload);
    expect(summary.updates.map((u) => u.name)).toEqual(["dev", "main"]);
    expect(planSync(summary, undefined)).toMatchObject({ action: "sync", mode: "incremental" });
    expect(planSync(summary, "release")).toMatchObject({ action: "ignore" });
    const deleted = {
      push: { changes: [{ new: null, old: { type: "branch", name: "main" }, closed: true }] },
    };
    expect(planSync(summarizePush("bitbucket", "repo:push", deleted), "main")).toMatchObject({
      mode: "full",
    });
  });

  it("a payload that is not an object is no push", () => {
    expect(planSync(summarizePush("github", "push", "nonsense"), "main")).toMatchObject({ action: "ignore" });
  });
});
