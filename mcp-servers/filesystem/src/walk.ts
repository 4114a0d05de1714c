import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Glob } from "./glob.js";
import type { Sandbox } from "./sandbox.js";

export type EntryType = "file" | "directory" | "symlink" | "other";

export interface WalkEntry {
  /** Real absolute path. */
  path: string;
  /** Relative to where the walk started, with `/`. */
  relative: string;
  name: string;
  type: EntryType;
  /** 1 for the start directory's children. */
  depth: number;
}

export interface WalkOptions {
  maxDepth: number;
  exclude: Glob[];
  /** Stop when this returns true (entry cap reached, time budget spent). */
  shouldStop: () => boolean;
}

export interface WalkStats {
  /** Directories that could not be read (permissions), by display path. */
  unreadable: string[];
  hiddenSkipped: number;
}

export function entryType(d: Dirent): EntryType {
  if (d.isFile()) return "file";
  if (d.isDirectory()) return "directory";
  if (d.isSymbolicLink()) return "symlink";
  return "other";
}

/** Directory entries sorted by name (code point order: stable across machines). */
export async function sortedEntries(dir: string): Promise<Dirent[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Depth-first walk below `start` in name order. Symbolic links are reported
 * but never followed (no escapes, no cycles); hidden names (unless allowed),
 * protected directories and excluded paths are skipped without descending.
 */
export async function* walk(
  sandbox: Sandbox,
  start: string,
  options: WalkOptions,
  stats: WalkStats,
): AsyncGenerator<WalkEntry> {
  const stack: Array<{ dir: string; relative: string; depth: number }> = [
    { dir: start, relative: "", depth: 0 },
  ];
  while (stack.length > 0) {
    if (options.shouldStop()) return;
    const { dir, relative, depth } = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = await sortedEntries(dir);
    } catch {
      stats.unreadable.push(sandbox.displayOf(dir));
      continue;
    }
    const subdirs: Array<{ dir: string; relative: string; depth: number }> = [];
    for (const d of entries) {
      if (sandbox.hides(d.name)) {
        stats.hiddenSkipped += 1;
        continue;
      }
      const path = join(dir, d.name);
      const rel = relative === "" ? d.name : `${relative}/${d.name}`;
      if (sandbox.isProtected(path)) continue;
      if (options.exclude.some((g) => g.test(rel, d.name))) continue;
      const type = entryType(d);
      yield { path, relative: rel, name: d.name, type, depth: depth + 1 };
      if (options.shouldStop()) return;
      if (type === "directory" && depth + 1 < options.maxDepth) {
        subdirs.push({ dir: path, relative: rel, depth: depth + 1 });
      }
    }
    // Reversed so the first subdirectory is walked first.
    for (let i = subdirs.length - 1; i >= 0; i -= 1) stack.push(subdirs[i]!);
  }
}
