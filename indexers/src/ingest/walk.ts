import type { Dirent } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import ignore, { type Ignore } from "ignore";

/**
 * Lists the files of a local tree the way git would see them: every
 * directory's `.gitignore` applies to the paths below it (a deeper file's
 * rules win over a shallower one's, and `!pattern` re-includes), plus
 * `.git/info/exclude` and caller-given patterns at the root. Ignored and
 * vendored directories are pruned without being listed. Only names, sizes
 * and modification times are kept, never contents.
 */

export interface FileEntry {
  /** Relative to the root, `/`-separated. */
  path: string;
  size: number;
  /** Whole milliseconds (what the index stores). */
  mtimeMs: number;
}

/** The rules of one directory, matched against paths relative to it. */
interface Level {
  /** Relative directory (`""` for the root), with a trailing `/` when not the root. */
  prefix: string;
  rules: Ignore;
}

async function readLines(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Whether `path` (a directory when `dir`) is ignored by the chain of levels, deepest rule winning. */
function isIgnored(levels: readonly Level[], path: string, dir: boolean): boolean {
  let ignored = false;
  for (const level of levels) {
    const relative = path.slice(level.prefix.length);
    const result = level.rules.test(dir ? `${relative}/` : relative);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

/** The root's rules: `.git/info/exclude` (lowest precedence), `.gitignore`, then `extra`. */
async function rootLevels(root: string, extra: readonly string[]): Promise<Level[]> {
  const levels: Level[] = [];
  const exclude = await readLines(join(root, ".git", "info", "exclude"));
  if (exclude) levels.push({ prefix: "", rules: ignore().add(exclude) });
  const gitignore = await readLines(join(root, ".gitignore"));
  if (gitignore || extra.length > 0) {
    levels.push({
      prefix: "",
      rules: ignore()
        .add(gitignore ?? "")
        .add(extra),
    });
  }
  return levels;
}

/**
 * The files under `root`, sorted by path. `vendored` names directories skipped
 * wherever they are (`node_modules`, `.git`…). Symbolic links and special
 * files are not followed.
 */
export async function walkTree(
  root: string,
  options: { ignore?: readonly string[]; vendored?: ReadonlySet<string> } = {},
): Promise<FileEntry[]> {
  const vendored = options.vendored ?? new Set<string>();
  const files: FileEntry[] = [];
  const visit = async (dir: string, levels: readonly Level[]): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(root, dir), { withFileTypes: true });
    } catch {
      return; // Unreadable or vanished: nothing to index there.
    }
    let here = levels;
    if (dir !== "" && entries.some((e) => e.name === ".gitignore" && e.isFile())) {
      const text = await readLines(join(root, dir, ".gitignore"));
      if (text) here = [...levels, { prefix: `${dir}/`, rules: ignore().add(text) }];
    }
    const subdirs: string[] = [];
    const stats: Promise<void>[] = [];
    for (const entry of entries) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!vendored.has(entry.name) && !isIgnored(here, path, true)) subdirs.push(path);
      } else if (entry.isFile() && !isIgnored(here, path, false)) {
        stats.push(
          lstat(join(root, path)).then(
            (info) => void files.push({ path, size: info.size, mtimeMs: Math.floor(info.mtimeMs) }),
            () => undefined, // Vanished between listing and stat.
          ),
        );
      }
    }
    // One directory's stats at a time run together: few syscalls in flight, no waiting on each.
    await Promise.all(stats);
    for (const sub of subdirs) await visit(sub, here);
  };
  await visit("", await rootLevels(root, options.ignore ?? []));
  // Depth-first over sorted names is not byte order (`a/b` vs `a-c`): sort once at the end.
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}
