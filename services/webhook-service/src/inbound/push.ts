/**
 * What a git provider's push delivery says changed, read from its documented
 * payload (GitHub `push`, GitLab `Push Hook` / `Tag Push Hook`, Bitbucket
 * Cloud `repo:push`), and what the source should do about it.
 */

export type GitProvider = "github" | "gitlab" | "bitbucket";

/** One ref a push moved. `paths` is undefined when the payload does not list them all. */
export interface RefUpdate {
  kind: "branch" | "tag";
  name: string;
  created: boolean;
  deleted: boolean;
  forced: boolean;
  commits: number;
  paths: string[] | undefined;
}

export interface PushSummary {
  /** The event as the provider names it (`push`, `Push Hook`, `repo:push`, `pull_request`…). */
  event: string;
  isPush: boolean;
  updates: RefUpdate[];
  defaultBranch: string | undefined;
}

export type SyncPlan =
  | { action: "ignore"; reason: string }
  | { action: "sync"; mode: "full" | "incremental"; paths?: string[]; reason: string };

/** More changed paths than this and the sync looks at the whole diff instead of a list. */
export const MAX_PUSH_PATHS = 2000;
/** GitHub lists at most this many commits in a push payload. */
const GITHUB_MAX_COMMITS = 2048;
const ZERO_SHA = /^0+$/;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function refOf(ref: string | undefined): { kind: "branch" | "tag"; name: string } | undefined {
  if (!ref) return undefined;
  if (ref.startsWith("refs/heads/")) return { kind: "branch", name: ref.slice("refs/heads/".length) };
  if (ref.startsWith("refs/tags/")) return { kind: "tag", name: ref.slice("refs/tags/".length) };
  return undefined;
}

/** The union of added, modified and removed paths of the commits; undefined when over the limit. */
function changedPaths(commits: unknown[]): string[] | undefined {
  const paths = new Set<string>();
  for (const c of commits) {
    const commit = obj(c);
    if (!commit) continue;
    for (const list of [commit.added, commit.modified, commit.removed]) {
      for (const p of arr(list)) {
        if (typeof p === "string" && p.length > 0) paths.add(p);
        if (paths.size > MAX_PUSH_PATHS) return undefined;
      }
    }
  }
  return [...paths].sort();
}

function githubPush(event: string, payload: Json): PushSummary {
  const repo = obj(payload.repository);
  const defaultBranch = str(repo?.default_branch);
  if (event !== "push") return { event, isPush: false, updates: [], defaultBranch };
  const ref = refOf(str(payload.ref));
  const commits = arr(payload.commits);
  const truncated = commits.length >= GITHUB_MAX_COMMITS;
  const updates: RefUpdate[] = ref
    ? [
        {
          ...ref,
          created: payload.created === true,
          deleted: payload.deleted === true,
          forced: payload.forced === true,
          commits: commits.length,
          paths: truncated ? undefined : changedPaths(commits),
        },
      ]
    : [];
  return { event, isPush: true, updates, defaultBranch };
}

function gitlabPush(event: string, payload: Json): PushSummary {
  const project = obj(payload.project);
  const defaultBranch = str(project?.default_branch);
  const kind = str(payload.object_kind);
  if (kind !== "push" && kind !== "tag_push") return { event, isPush: false, updates: [], defaultBranch };
  const ref = refOf(str(payload.ref));
  const commits = arr(payload.commits);
  const total =
    typeof payload.total_commits_count === "number" ? payload.total_commits_count : commits.length;
  const before = str(payload.before) ?? "";
  const after = str(payload.after) ?? "";
  const updates: RefUpdate[] = ref
    ? [
        {
          ...ref,
          created: ZERO_SHA.test(before),
          deleted: ZERO_SHA.test(after),
          // GitLab does not say whether a push was forced; the sync diffs from its own cursor anyway.
          forced: false,
          commits: total,
          paths: total > commits.length ? undefined : changedPaths(commits),
        },
      ]
    : [];
  return { event, isPush: true, updates, defaultBranch };
}

function bitbucketPush(event: string, payload: Json): PushSummary {
  const repo = obj(payload.repository);
  const defaultBranch = str(obj(repo?.mainbranch)?.name);
  if (event !== "repo:push") return { event, isPush: false, updates: [], defaultBranch };
  const updates: RefUpdate[] = [];
  for (const c of arr(obj(payload.push)?.changes)) {
    const change = obj(c);
    if (!change) continue;
    const target = obj(change.new) ?? obj(change.old);
    const type = str(target?.type);
    const name = str(target?.name);
    if (!name || (type !== "branch" && type !== "tag" && type !== "named_branch")) continue;
    updates.push({
      kind: type === "tag" ? "tag" : "branch",
      name,
      created: change.created === true,
      deleted: change.closed === true || change.new === null,
      forced: change.forced === true,
      commits: arr(change.commits).length,
      // Bitbucket's push payload lists commits, not the files they touch.
      paths: undefined,
    });
  }
  return { event, isPush: true, updates, defaultBranch };
}

export function summarizePush(provider: GitProvider, event: string, payload: unknown): PushSummary {
  const json = obj(payload) ?? {};
  if (provider === "github") return githubPush(event, json);
  if (provider === "gitlab") return gitlabPush(event, json);
  return bitbucketPush(event, json);
}

/**
 * What a push means for a source tracking `sourceBranch` (its default branch
 * when it names none): an incremental sync of the changed paths when the
 * payload lists them all, without a list when it does not (or the push was
 * forced or created the branch), a full sync when the branch was deleted;
 * anything else is ignored, with the reason.
 */
export function planSync(summary: PushSummary, sourceBranch: string | undefined): SyncPlan {
  if (!summary.isPush) return { action: "ignore", reason: `${summary.event} events do not trigger a sync` };
  const tracked = sourceBranch ?? summary.defaultBranch;
  const branches = summary.updates.filter((u) => u.kind === "branch");
  if (branches.length === 0) {
    const tags = summary.updates.filter((u) => u.kind === "tag").map((u) => u.name);
    return {
      action: "ignore",
      reason: tags.length > 0 ? `tag push (${tags.join(", ")})` : "push without a branch",
    };
  }
  const update = tracked ? branches.find((u) => u.name === tracked) : branches[0];
  if (!update) {
    return {
      action: "ignore",
      reason: `push to ${branches.map((u) => u.name).join(", ")}; the source tracks ${tracked}`,
    };
  }
  const where = tracked
    ? `the tracked branch ${tracked}`
    : `${update.name} (default branch not in the payload)`;
  if (update.deleted) return { action: "sync", mode: "full", reason: `${where} was deleted` };
  if (update.forced || update.created) {
    return {
      action: "sync",
      mode: "incremental",
      reason: `${update.forced ? "forced push to" : "creation of"} ${where}: the sync diffs from its cursor`,
    };
  }
  if (!update.paths || update.paths.length === 0) {
    return {
      action: "sync",
      mode: "incremental",
      reason: `push to ${where}; the payload does not list every changed path`,
    };
  }
  return {
    action: "sync",
    mode: "incremental",
    paths: update.paths,
    reason: `push to ${where}: ${update.paths.length} changed path(s)`,
  };
}
