import { type FileHandle, lstat, readdir } from "node:fs/promises";
import { z } from "zod";
import { openRegularFile } from "../files.js";
import { formatBytes, sniff, sniffBytes } from "../text.js";
import { pathField, type Register, readOnly } from "./deps.js";
import { guarded, ok } from "./result.js";

/** Lines are counted for text files up to this size. */
const countLinesUpTo = 8 * 1_048_576;

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const fileInfoTool = {
  title: "File information",
  description:
    "Describes a file or directory without reading it all: type, size, line count (text files up to 8 MB), whether it is text or binary, modification/creation/access times, permissions, and, for a symbolic link, where it leads. Use it before read_file on a file of unknown size.",
  inputSchema: z.strictObject({ path: pathField("File or directory") }),
  outputSchema: z.object({
    path: z.string(),
    type: z.enum(["file", "directory"]),
    size: z.number().describe("Bytes (for a directory, the size of its entry)."),
    lines: z.number().nullable().describe("Lines, for text files up to 8 MB."),
    encoding: z.enum(["utf-8", "binary", "utf-16"]).nullable().describe("For files."),
    entries: z.number().nullable().describe("Visible entries, for directories."),
    modified: z.string(),
    created: z.string(),
    accessed: z.string(),
    permissions: z.string().describe('Like "rw-r--r--".'),
    symlinkTo: z.string().nullable().describe("When the path is a symbolic link: its resolved location."),
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerFileInfo: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "file_info",
    fileInfoTool,
    guarded("file_info", logger, async ({ path }) => {
      const target = await sandbox.resolve(path);
      const stats = target.stats!;
      const isLink = (await lstat(target.lexical)).isSymbolicLink();
      let lines: number | null = null;
      let encoding: "utf-8" | "binary" | "utf-16" | null = null;
      let entries: number | null = null;
      if (stats.isFile()) {
        const handle = await openRegularFile(target.real, target.display);
        try {
          const head = Buffer.alloc(Math.min(sniffBytes, stats.size));
          await handle.read(head, 0, head.length, 0);
          encoding = sniff(head);
          if (encoding === "utf-8" && stats.size <= countLinesUpTo)
            lines = await countLines(handle, stats.size);
        } finally {
          await handle.close();
        }
      } else {
        const names = await readdir(target.real);
        entries = names.filter((n) => !sandbox.hides(n)).length;
      }
      const info = {
        path: target.display,
        type: stats.isFile() ? ("file" as const) : ("directory" as const),
        size: stats.size,
        lines,
        encoding,
        entries,
        modified: stats.mtime.toISOString(),
        created: stats.birthtime.toISOString(),
        accessed: stats.atime.toISOString(),
        permissions: permissionString(stats.mode),
        symlinkTo: isLink ? target.display : null,
      };
      const text = [
        `${info.path}: ${info.type}${isLink ? ` (symbolic link to ${target.display})` : ""}`,
        info.type === "file"
          ? `size: ${formatBytes(info.size)} (${info.size} bytes)${lines !== null ? `, ${lines} lines` : ""}, ${encoding === "utf-8" ? "UTF-8 text" : encoding === "utf-16" ? "UTF-16 text (read_file cannot read it)" : "binary (read_file refuses it)"}`
          : `entries: ${entries}`,
        `modified: ${info.modified}`,
        `created: ${info.created}`,
        `accessed: ${info.accessed}`,
        `permissions: ${info.permissions}`,
      ];
      return ok(text.join("\n"), info);
    }),
  );
};

async function countLines(handle: FileHandle, size: number): Promise<number> {
  const buf = Buffer.allocUnsafe(65_536);
  let position = 0;
  let count = 0;
  let last = -1;
  while (position < size) {
    const { bytesRead } = await handle.read(buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    for (let i = buf.indexOf(10, 0); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) count += 1;
    last = buf[bytesRead - 1] ?? -1;
    position += bytesRead;
  }
  return position > 0 && last !== 10 ? count + 1 : count;
}

function permissionString(mode: number): string {
  const bits = "rwxrwxrwx";
  let out = "";
  for (let i = 0; i < 9; i += 1) out += mode & (1 << (8 - i)) ? bits[i] : "-";
  return out;
}
