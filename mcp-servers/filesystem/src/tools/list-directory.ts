import { lstat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { FsToolError } from "../errors.js";
import type { Sandbox } from "../sandbox.js";
import { formatBytes } from "../text.js";
import { entryType, sortedEntries } from "../walk.js";
import { pathField, type Register, readOnly, resolveDirectory } from "./deps.js";
import { guarded, ok } from "./result.js";

const Entry = z.object({
  name: z.string(),
  type: z.enum(["file", "directory", "symlink", "other"]),
  size: z.number().optional().describe("Bytes, for files."),
  modified: z.string().optional().describe("ISO 8601."),
  linkTarget: z
    .enum(["file", "directory", "outside", "broken"])
    .optional()
    .describe("For symbolic links: what they point to; `outside` means beyond the allowed roots."),
});
type Entry = z.infer<typeof Entry>;

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const listDirectoryTool = {
  title: "List a directory",
  description:
    "Lists the entries of one directory (not recursive), directories first, then files, each with its type, size and last-modified time. Large directories are paginated: when more entries remain, the result says which offset to ask for next. Use directory_tree for several levels at once.",
  inputSchema: z.strictObject({
    path: pathField("Directory to list").optional().describe("Directory to list; default: the first root."),
    offset: z.number().int().min(0).default(0).describe("Entries to skip (for the next page)."),
    limit: z.number().int().min(1).max(1000).default(200).describe("Most entries to return (1–1000)."),
  }),
  outputSchema: z.object({
    path: z.string(),
    total: z.number().describe("Visible entries in the directory."),
    offset: z.number(),
    entries: z.array(Entry),
    nextOffset: z.number().nullable().describe("Offset of the next page, or null when this is the last."),
    hiddenEntries: z.number().describe("Dot-entries not shown (hidden files are off)."),
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerListDirectory: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "list_directory",
    listDirectoryTool,
    guarded("list_directory", logger, async ({ path, offset, limit }) => {
      const dir = await resolveDirectory(sandbox, path);
      let all: Awaited<ReturnType<typeof sortedEntries>>;
      try {
        all = await sortedEntries(dir.real);
      } catch {
        throw new FsToolError(`${dir.display} cannot be read (permission denied).`);
      }
      let hidden = 0;
      const visible = all.filter((d) => {
        if (sandbox.hides(d.name)) {
          hidden += 1;
          return false;
        }
        return !sandbox.isProtected(join(dir.real, d.name));
      });
      // Directories first; each group keeps name order.
      visible.sort((a, b) => Number(!a.isDirectory()) - Number(!b.isDirectory()));
      const page = visible.slice(offset, offset + limit);
      const entries = await Promise.all(
        page.map((d) => describeEntry(sandbox, dir.display, dir.real, d.name, entryType(d))),
      );
      const nextOffset = offset + page.length < visible.length ? offset + page.length : null;

      const lines = [
        `${dir.display} — ${visible.length} entr${visible.length === 1 ? "y" : "ies"}${hidden > 0 ? ` (${hidden} hidden not shown)` : ""}${visible.length > 0 ? `; showing ${page.length === 0 ? 0 : offset + 1}–${offset + page.length}` : ""}`,
        ...entries.map(formatEntry),
      ];
      if (visible.length === 0) lines.push("(empty)");
      if (nextOffset !== null) lines.push(`More entries: call list_directory with offset=${nextOffset}.`);
      return ok(lines.join("\n"), {
        path: dir.display,
        total: visible.length,
        offset,
        entries,
        nextOffset,
        hiddenEntries: hidden,
      });
    }),
  );
};

async function describeEntry(
  sandbox: Sandbox,
  displayDir: string,
  realDir: string,
  name: string,
  type: Entry["type"],
): Promise<Entry> {
  const entry: Entry = { name, type };
  try {
    const info = await lstat(join(realDir, name));
    entry.modified = info.mtime.toISOString();
    if (type === "file") entry.size = info.size;
  } catch {
    // vanished since listing: keep name and type
  }
  if (type === "symlink") {
    try {
      const target = await sandbox.resolve(join(displayDir, name));
      entry.linkTarget = target.stats?.isDirectory() ? "directory" : "file";
    } catch (err) {
      entry.linkTarget =
        err instanceof FsToolError && /does not exist/.test(err.message) ? "broken" : "outside";
    }
  }
  return entry;
}

function formatEntry(e: Entry): string {
  const when = e.modified ? `  ${e.modified.slice(0, 16).replace("T", " ")}` : "";
  switch (e.type) {
    case "directory":
      return `[dir]  ${e.name}/${when}`;
    case "file":
      return `[file] ${e.name}  ${formatBytes(e.size ?? 0)}${when}`;
    case "symlink":
      return `[link] ${e.name} -> ${e.linkTarget === "outside" ? "(outside the allowed roots or not accessible)" : e.linkTarget}`;
    default:
      return `[other] ${e.name} (special file; not readable)`;
  }
}
