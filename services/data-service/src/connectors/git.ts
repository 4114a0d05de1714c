import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve as resolvePath } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { type NetworkPolicy, PrivateAddressError, publicOnly, resolveChecked } from "../net/addresses.js";
import {
  type Change,
  type Connector,
  type ConnectorContext,
  type ConnectorEnv,
  type ListingEnd,
  SourceError,
} from "./connector.js";
import { BlobReader, GitError, git } from "./git-cli.js";
import { isIndexablePath, localPathProblem } from "./paths.js";

const refName = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(250)
  .refine(
    (b) =>
      /^[A-Za-z0-9._/-]+$/.test(b) &&
      !b.startsWith("-") &&
      !b.startsWith("/") &&
      !b.endsWith("/") &&
      !b.endsWith(".lock") &&
      !b.includes(".."),
    "must be a branch name (letters, digits, . _ / -)",
  );

function urlProblem(url: string): string | undefined {
  if (url.startsWith("-")) return "must be an https:// URL or an absolute path";
  if (url.startsWith("/")) return undefined;
  if (/^[\w.-]+@[\w.-]+:/.test(url) || url.startsWith("ssh://")) {
    return "SSH URLs are not supported: use the https:// URL and a token in credentials.token";
  }
  if (!URL.canParse(url)) return "must be an https:// URL or an absolute path";
  const parsed = new URL(url);
  if (!["https:", "http:", "file:"].includes(parsed.protocol))
    return "must be an https://, http:// or file:// URL";
  if (parsed.username || parsed.password) {
    return "must not contain credentials: put the token in credentials.token (it is encrypted at rest)";
  }
  return undefined;
}

export const GitConfig = z.strictObject({
  url: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(2048)
    .superRefine((v, ctx) => {
      const problem = urlProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  /** The branch to index; default: the repository's default branch. */
  branch: refName.optional(),
  /** Commits of history fetched (shallow clone); null: full history. */
  depth: z.number().int().min(1).max(1_000_000).nullable().default(1),
  /**
   * Index the repository's submodules too, under their paths (default: off,
   * and the run lists each submodule as skipped). Their URLs follow the
   * parent's rules: private addresses only as the parent may, paths on disk
   * only for a parent on disk and inside DATA_LOCAL_ROOTS, the token only
   * sent to the parent's host.
   */
  submodules: z.boolean().default(false),
  /** Allow a git server on a private network (needs DATA_ALLOW_PRIVATE_NETWORKS too). */
  allowPrivateNetwork: z.boolean().default(false),
});
export type GitConfig = z.output<typeof GitConfig>;

export const GitCredentials = z.strictObject({
  token: z.string().min(1, "must not be empty").max(4096),
  /** HTTP user name sent with the token (GitHub ignores it; Bitbucket needs the account name). */
  username: z.string().min(1).max(200).optional(),
});

function isLocal(url: string): boolean {
  return url.startsWith("/") || url.startsWith("file:");
}

function localPath(url: string): string {
  return url.startsWith("file:") ? new URL(url).pathname : url;
}

/** Config entries for one remote operation: allowed protocols, pinned DNS, auth header. */
async function transportConfig(ctx: ConnectorContext<GitConfig>, network: NetworkPolicy) {
  return transportFor(ctx.config.url, ctx, network, true);
}

/**
 * The transport of one URL (the source's, or a submodule's): local paths
 * over file://; http(s) to exactly the addresses checked against the
 * source's network policy; the token only when `withToken`.
 */
async function transportFor(
  url: string,
  ctx: ConnectorContext<GitConfig>,
  network: NetworkPolicy,
  withToken: boolean,
) {
  const config: Array<[string, string]> = [
    ["protocol.allow", "never"],
    ["core.askPass", "echo"],
  ];
  if (isLocal(url)) {
    config.push(["protocol.file.allow", "always"]);
    // A shallow fetch needs the file:// transport (a plain path is copied whole).
    return { config, remote: pathToFileURL(localPath(url)).href };
  }
  const parsed = new URL(url);
  config.push(
    [`protocol.${parsed.protocol.slice(0, -1)}.allow`, "always"],
    ["http.followRedirects", "false"],
  );
  const addresses = await resolveChecked(
    parsed.hostname,
    ctx.config.allowPrivateNetwork ? network : publicOnly,
  );
  const port = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  // git connects to exactly the addresses checked above: no second DNS answer.
  config.push([
    "http.curloptResolve",
    `${host}:${port}:${addresses.map((a) => (a.includes(":") ? `[${a}]` : a)).join(",")}`,
  ]);
  const token = ctx.credentials?.token;
  if (token && withToken) {
    const user = ctx.credentials?.username ?? "x-access-token";
    const basic = Buffer.from(`${user}:${token}`).toString("base64");
    config.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
  }
  return { config, remote: url };
}

/** A git failure as a message the user can act on (never the token: it is only in the environment). */
function explain(err: unknown, url: string, branch: string | undefined): Error {
  if (!(err instanceof GitError)) return err as Error;
  const s = err.stderr;
  if (/Authentication failed|could not read Username|401|403|terminal prompts disabled/i.test(s)) {
    return new SourceError(
      `${url} refused access: the repository is private or the token cannot read it. Add or replace credentials.token with a token that has read access to the repository's contents.`,
    );
  }
  if (/couldn't find remote ref|Remote branch .* not found/i.test(s)) {
    return new SourceError(
      `The branch ${branch ?? "(default)"} does not exist in ${url}: check config.branch.`,
    );
  }
  if (/does not appear to be a git repository|repository .* not found|not found|404/i.test(s)) {
    return new SourceError(
      `No git repository was found at ${url}: check the URL (or, if it is private, add credentials.token).`,
    );
  }
  if (/redirect|301|302|307|308/i.test(s)) {
    return new SourceError(`${url} redirects elsewhere: use the URL the repository really lives at.`);
  }
  if (/Could not resolve host|Failed to connect|Connection refused|timed out|unable to access/i.test(s)) {
    return new SourceError(
      `${url} cannot be reached from the ConHub server: check the URL and that the git server is up (${s.trim().split("\n").pop()}).`,
    );
  }
  return new SourceError(`git could not read ${url}: ${s.trim().split("\n").slice(-2).join(" ")}`);
}

/** A ref's commit: the loose ref file fetch just wrote, or `rev-parse` (packed refs). */
async function readRef(repo: string, ref: string): Promise<string> {
  const loose = await readFile(join(repo, ref), "utf8").catch(() => "");
  if (/^[0-9a-f]{40,64}\n?$/.test(loose)) return loose.trim();
  return (await git(["rev-parse", "--verify", `${ref}^{commit}`], { cwd: repo })).toString("utf8").trim();
}

interface TreeEntry {
  mode: string;
  type: string;
  id: string;
  size: number | undefined;
  path: string;
}

function parseLsTree(out: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of out.toString("utf8").split("\0")) {
    if (!record) continue;
    const tab = record.indexOf("\t");
    const [mode, type, id, size] = record.slice(0, tab).split(/\s+/);
    entries.push({
      mode: mode!,
      type: type!,
      id: id!,
      size: size === "-" || size === undefined ? undefined : Number(size),
      path: record.slice(tab + 1),
    });
  }
  return entries;
}

/** `git diff-tree -r -z --raw`: `:old new oldId newId status\0path\0` per change. */
function parseDiffTree(
  out: Buffer,
): Array<{ oldMode: string; mode: string; id: string; status: string; path: string }> {
  const parts = out.toString("utf8").split("\0");
  const changes = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const meta = parts[i]!;
    if (!meta.startsWith(":")) break;
    const [oldMode, newMode, , newId, status] = meta.slice(1).split(" ");
    changes.push({
      oldMode: oldMode!,
      mode: newMode!,
      id: newId!,
      status: status!.charAt(0),
      path: parts[i + 1]!,
    });
  }
  return changes;
}

export interface GitConnectorEnv {
  network: NetworkPolicy;
}

/**
 * A git repository by URL (https, http) or path (a bare or working
 * repository on the server). Each source keeps a bare repository in its
 * work folder and fetches only the tracked branch, shallow by default.
 * The first sync lists the commit's tree; later ones diff the last synced
 * commit with the new one (renames are a delete and an add), falling back
 * to the full tree when the old commit is gone (a force push). An item's
 * version is its blob id, so unchanged files are never read.
 */
export function gitConnector(env: GitConnectorEnv): Connector<GitConfig> {
  return {
    type: "git",
    config: GitConfig,
    credentials: GitCredentials as z.ZodType<Record<string, string>>,
    check(config, connectorEnv) {
      if (isLocal(config.url)) {
        const problem = localPathProblem(
          localPath(config.url),
          connectorEnv.localRoots,
          connectorEnv.forbiddenRoots,
        );
        return problem ? [{ field: "config.url", reason: problem }] : [];
      }
      return [];
    },
    root: (config) => config.url,
    async *changes(ctx, scope): AsyncGenerator<Change, ListingEnd, void> {
      const repo = join(ctx.workDir, "repo.git");
      if (!existsSync(join(repo, "HEAD"))) {
        await mkdir(repo, { recursive: true });
        await git(["init", "--bare", "--quiet", repo]);
      }
      const { config, remote } = await transportConfig(ctx, env.network);
      const url = ctx.config.url;
      const branch = ctx.config.branch;
      let head: string;
      try {
        const depth = ctx.config.depth === null ? [] : [`--depth=${ctx.config.depth}`];
        // No branch given: fetch the remote's HEAD, its default branch (no ls-remote round trip).
        const source = branch ? `refs/heads/${branch}` : "HEAD";
        await git(
          [
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--no-write-fetch-head",
            ...depth,
            "--",
            remote,
            `+${source}:refs/conhub/tracked`,
          ],
          // No gc while a sync waits on it; and pruning could take the last synced commit (the diff's base) away.
          {
            cwd: repo,
            config: [...config, ["gc.auto", "0"], ["maintenance.auto", "false"]],
            signal: scope.signal,
          },
        );
        head = await readRef(repo, "refs/conhub/tracked");
      } catch (err) {
        throw explain(err, url, branch);
      }

      const reader = new BlobReader(repo);
      const readers = [reader];
      try {
        let previous: string | null =
          scope.mode === "incremental" && scope.cursor && /^[0-9a-f]{40,64}$/.test(scope.cursor)
            ? scope.cursor
            : null;
        let diff: Buffer | undefined;
        if (previous) {
          diff = await git(
            ["diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev", previous, head],
            {
              cwd: repo,
            },
          ).catch(() => {
            ctx.logger.info({ cursor: previous }, "last synced commit is gone: listing the whole tree");
            return undefined;
          });
          if (!diff) previous = null;
        }
        if (previous && diff) {
          const changes = parseDiffTree(diff);
          const submoduleChanged =
            ctx.config.submodules &&
            changes.some((c) => c.mode === GITLINK || c.oldMode === GITLINK || c.path === ".gitmodules");
          if (!submoduleChanged) {
            scope.total(changes.length);
            for (const c of changes) {
              scope.signal.throwIfAborted();
              if (c.status === "D") yield { type: "delete", path: c.path };
              else
                yield* entryChange(reader, {
                  mode: c.mode,
                  type: "blob",
                  id: c.id,
                  size: undefined,
                  path: c.path,
                });
            }
            return { complete: false, cursor: head, root: url };
          }
          // A submodule moved, appeared or went: list everything (versions are blob ids, so
          // unchanged files are not read again) and let the complete listing carry the deletions.
          ctx.logger.info({ cursor: previous }, "a submodule changed: listing the whole tree");
        }
        const entries = parseLsTree(
          await git(["ls-tree", "-r", "-z", "--long", "--full-tree", head], { cwd: repo }),
        );
        scope.total(
          entries.length,
          entries.reduce((n, e) => n + (e.size ?? 0), 0),
        );
        const links: TreeEntry[] = [];
        for (const entry of entries) {
          scope.signal.throwIfAborted();
          if (entry.mode === GITLINK && ctx.config.submodules && isIndexablePath(entry.path)) {
            links.push(entry);
            continue;
          }
          yield* entryChange(reader, entry);
        }
        if (links.length > 0) {
          const modules = await readGitmodules(repo, head);
          for (const link of links) {
            scope.signal.throwIfAborted();
            yield* submoduleChanges(ctx, env.network, link, modules.get(link.path), readers, scope.signal);
          }
        }
        return { complete: true, cursor: head, root: url };
      } finally {
        for (const r of readers) r.close();
      }
    },
  };
}

/** The mode of a gitlink: a submodule's commit in the parent's tree. */
const GITLINK = "160000";

interface Gitmodule {
  name: string;
  url?: string;
}

/** `.gitmodules` of a commit, by submodule path (empty when it has none). */
async function readGitmodules(repo: string, commit: string): Promise<Map<string, Gitmodule>> {
  const out = await git(["config", "--blob", `${commit}:.gitmodules`, "-z", "--list"], { cwd: repo }).catch(
    () => Buffer.alloc(0),
  );
  const byName = new Map<string, { path?: string; url?: string }>();
  for (const record of out.toString("utf8").split("\0")) {
    const nl = record.indexOf("\n");
    if (nl < 0) continue;
    const match = /^submodule\.(.+)\.(path|url)$/.exec(record.slice(0, nl));
    if (!match) continue;
    const entry = byName.get(match[1]!) ?? {};
    entry[match[2] as "path" | "url"] = record.slice(nl + 1);
    byName.set(match[1]!, entry);
  }
  const byPath = new Map<string, Gitmodule>();
  for (const [name, entry] of byName) {
    if (entry.path) byPath.set(entry.path, { name, ...(entry.url ? { url: entry.url } : {}) });
  }
  return byPath;
}

/** A submodule URL as git reads it: `./x` and `../x` are relative to the parent's URL. */
function submoduleUrl(parent: string, url: string): string {
  if (!url.startsWith("./") && !url.startsWith("../")) return url;
  if (isLocal(parent)) return resolvePath(localPath(parent), url);
  return new URL(url, parent.endsWith("/") ? parent : `${parent}/`).href;
}

/** Why a submodule's URL may not be fetched for this source, or undefined. */
function submoduleUrlProblem(parent: string, url: string, env: ConnectorEnv | undefined): string | undefined {
  const problem = urlProblem(url);
  if (problem) return `its URL ${url} ${problem}`;
  if (isLocal(url)) {
    if (!isLocal(parent)) return `its URL ${url} is on the ConHub server's disk, and the repository is not`;
    if (!env) return `its URL ${url} is on the ConHub server's disk`;
    const local = localPathProblem(localPath(url), env.localRoots, env.forbiddenRoots);
    if (local) return `its path ${localPath(url)} ${local}`;
  }
  return undefined;
}

function sameOrigin(a: string, b: string): boolean {
  if (isLocal(a) || isLocal(b)) return false;
  return new URL(a).origin === new URL(b).origin;
}

/**
 * The files of one submodule at the commit the parent records, under the
 * submodule's path. Each submodule has a bare repository of its own in the
 * source's work folder; a commit already there is not fetched again. When
 * it cannot be fetched, the run records an error and the files of the last
 * synced commit stay as they are (the source's cursor does not move, so the
 * next sync tries again).
 */
async function* submoduleChanges(
  ctx: ConnectorContext<GitConfig>,
  network: NetworkPolicy,
  link: TreeEntry,
  module: Gitmodule | undefined,
  readers: BlobReader[],
  signal: AbortSignal,
): AsyncGenerator<Change> {
  const skip = (reason: string): Change => ({
    type: "skip",
    path: link.path,
    version: link.id,
    reason: `a submodule not indexed: ${reason}`,
  });
  if (!module?.url) {
    yield skip(".gitmodules gives no URL for it");
    return;
  }
  const target = submoduleUrl(ctx.config.url, module.url);
  const problem = submoduleUrlProblem(ctx.config.url, target, ctx.env);
  if (problem) {
    yield skip(problem);
    return;
  }
  const repo = join(
    ctx.workDir,
    "submodules",
    `${createHash("sha256").update(module.name).digest("hex").slice(0, 24)}.git`,
  );
  if (!existsSync(join(repo, "HEAD"))) {
    await mkdir(repo, { recursive: true });
    await git(["init", "--bare", "--quiet", repo]);
  }
  const local = {
    cwd: repo,
    config: [["gc.auto", "0"] as [string, string], ["maintenance.auto", "false"] as [string, string]],
  };
  const has = (commit: string) =>
    git(["cat-file", "-e", `${commit}^{commit}`], { cwd: repo }).then(
      () => true,
      () => false,
    );
  let fetchError: string | undefined;
  if (!(await has(link.id))) {
    try {
      const { config, remote } = await transportFor(target, ctx, network, sameOrigin(ctx.config.url, target));
      const fetch = (args: string[]) =>
        git(["fetch", "--quiet", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", ...args], {
          ...local,
          config: [...config, ...local.config],
          signal,
        });
      // The recorded commit itself, shallow (servers allow it over protocol v2, GitHub and GitLab do);
      // otherwise every branch with its history, where the commit must be.
      await fetch(["--depth=1", "--", remote, `+${link.id}:refs/conhub/pinned`]).catch(() =>
        fetch(["--", remote, "+refs/heads/*:refs/conhub/heads/*"]),
      );
      if (!(await has(link.id))) fetchError = `commit ${link.id} is not in ${target}`;
    } catch (err) {
      if (signal.aborted) throw err;
      if (err instanceof PrivateAddressError) {
        // The source's network policy refuses it: not a failure to retry.
        yield skip(err.message);
        return;
      }
      fetchError = explain(err, target, undefined).message;
    }
  }
  let commit = link.id;
  if (fetchError) {
    yield { type: "error", path: link.path, reason: `the submodule could not be fetched: ${fetchError}` };
    const synced = await git(["rev-parse", "--verify", "refs/conhub/synced^{commit}"], { cwd: repo }).catch(
      () => undefined,
    );
    if (!synced) return;
    commit = synced.toString("utf8").trim();
  }
  const reader = new BlobReader(repo);
  readers.push(reader);
  const entries = parseLsTree(
    await git(["ls-tree", "-r", "-z", "--long", "--full-tree", commit], { cwd: repo }),
  );
  for (const entry of entries) {
    signal.throwIfAborted();
    const path = `${link.path}/${entry.path}`;
    if (entry.mode === GITLINK) {
      yield { type: "skip", path, version: entry.id, reason: "a submodule inside a submodule (not indexed)" };
      continue;
    }
    yield* entryChange(reader, { ...entry, path });
  }
  if (!fetchError) await git(["update-ref", "refs/conhub/synced", commit], { cwd: repo });
}

function* entryChange(reader: BlobReader, entry: TreeEntry): Generator<Change> {
  if (!isIndexablePath(entry.path)) {
    yield { type: "skip", path: entry.path, version: entry.id, reason: "a path the index cannot store" };
  } else if (entry.mode === "160000") {
    yield {
      type: "skip",
      path: entry.path,
      version: entry.id,
      reason: 'a submodule (not indexed: set "submodules": true in the source\'s config to index it)',
    };
  } else if (entry.mode === "120000") {
    yield { type: "skip", path: entry.path, version: entry.id, reason: "a symbolic link" };
  } else {
    yield {
      type: "upsert",
      path: entry.path,
      version: entry.id,
      ...(entry.size === undefined ? {} : { size: entry.size }),
      load: async () => ({ content: await reader.read(entry.id) }),
    };
  }
}
