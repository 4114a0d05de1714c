import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_CLASSIFY, walkTree } from "@conhub/indexer";
import { z } from "zod";
import { type Change, type Connector, type ListingEnd, SourceError } from "./connector.js";
import { isIndexablePath, localPathProblem } from "./paths.js";

export const LocalConfig = z.strictObject({
  path: z.string().trim().min(1, "must not be empty").max(4096),
  /** Keep the index live: a file watcher queues an incremental sync when files change. */
  watch: z.boolean().default(true),
});
export type LocalConfig = z.output<typeof LocalConfig>;

/**
 * A folder on the ConHub server's disk. Listing is the CLI's walk (nested
 * `.gitignore`, `.git/info/exclude`, vendored directories pruned): names,
 * sizes and modification times only, so an unchanged file is never read.
 * The version of a file is its size and mtime; the engine then compares the
 * content hash, so a touched but unchanged file sends nothing.
 */
export const localConnector: Connector<LocalConfig> = {
  type: "local",
  config: LocalConfig,
  check(config, env) {
    const problem = localPathProblem(config.path, env.localRoots, env.forbiddenRoots);
    return problem ? [{ field: "config.path", reason: problem }] : [];
  },
  root: (config) => config.path,
  async *changes(ctx, scope): AsyncGenerator<Change, ListingEnd, void> {
    const root = ctx.config.path;
    try {
      const info = await stat(root);
      if (!info.isDirectory())
        throw new SourceError(`${root} is a file, not a folder: give the folder to index.`);
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new SourceError(
        code === "ENOENT"
          ? `The folder ${root} does not exist on the ConHub server: check the path (it is read by the server, not your browser).`
          : `The folder ${root} cannot be read by the ConHub server (${code}): give its user read access.`,
      );
    }
    const files = await walkTree(root, { vendored: new Set(DEFAULT_CLASSIFY.vendoredDirs) });
    scope.total(
      files.length,
      files.reduce((n, f) => n + f.size, 0),
    );
    for (const file of files) {
      scope.signal.throwIfAborted();
      if (!isIndexablePath(file.path)) {
        yield { type: "skip", path: file.path, version: "-", reason: "a path the index cannot store" };
        continue;
      }
      yield {
        type: "upsert",
        path: file.path,
        version: `${file.size}:${file.mtimeMs}`,
        size: file.size,
        load: async () => ({ content: await readFile(join(root, file.path)) }),
      };
    }
    return { complete: true, cursor: null, root };
  },
};
