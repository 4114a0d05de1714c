import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, lstat, mkdir, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { describeErrno, FsToolError, quote } from "../errors.js";
import { isWithin, type ResolvedPath } from "../sandbox.js";
import { pathField, type Register } from "./deps.js";
import { guarded, ok } from "./result.js";

export const maxWriteChars = 10 * 1_048_576;

/**
 * The write tools, registered only when FILE_SYSTEM_ENABLE_WRITE is on.
 * Writes are atomic (a temporary file in the same directory, synced, then
 * renamed over the target), so a reader never sees half a file.
 */
// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const writeFileTool = {
  title: "Write a file",
  description:
    "Creates a UTF-8 text file, or replaces one when overwrite is true. The write is atomic: readers see the old content or the new, never a mix. Refuses paths outside the allowed roots, hidden names (unless allowed) and directories.",
  inputSchema: z.strictObject({
    path: pathField("File to write"),
    content: z.string().max(maxWriteChars).describe("The complete new content of the file."),
    overwrite: z.boolean().default(false).describe("Replace the file if it exists (default false: refuse)."),
    createDirectories: z
      .boolean()
      .default(false)
      .describe("Create missing parent directories (default false)."),
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
};

const createDirectoryTool = {
  title: "Create a directory",
  description:
    "Creates a directory, and any missing parents, inside the allowed roots. Succeeds without change if it already exists.",
  inputSchema: z.strictObject({ path: pathField("Directory to create") }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
};

const moveFileTool = {
  title: "Move or rename",
  description:
    "Moves or renames a file or directory within the allowed roots. The destination's parent directory must exist. Refuses to replace an existing destination unless overwrite is true (files only).",
  inputSchema: z.strictObject({
    source: pathField("File or directory to move"),
    destination: pathField("New path"),
    overwrite: z.boolean().default(false).describe("Replace an existing destination file (default false)."),
  }),
  annotations: {
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
};

export const registerWriteTools: Register = (server, { sandbox, logger }) => {
  const mustExistAsDirectory = async (parent: string, input: string, create: boolean) => {
    try {
      if ((await lstat(parent)).isDirectory()) return;
      throw new FsToolError(`${quote(input)} cannot be created: its parent is not a directory.`);
    } catch (err) {
      if (err instanceof FsToolError) throw err;
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      if (!create) {
        throw new FsToolError(
          `the parent directory of ${quote(input)} does not exist; pass createDirectories: true or call create_directory first.`,
        );
      }
      await mkdir(parent, { recursive: true });
    }
  };

  server.registerTool(
    "write_file",
    writeFileTool,
    guarded("write_file", logger, async ({ path, content, overwrite, createDirectories }) => {
      const target = await sandbox.resolve(path, "create");
      if (target.stats?.isDirectory()) throw new FsToolError(`${target.display} is a directory.`);
      if (target.stats && !overwrite) {
        throw new FsToolError(`${target.display} already exists; pass overwrite: true to replace it.`);
      }
      await mustExistAsDirectory(dirname(target.real), path, createDirectories);
      const data = Buffer.from(content, "utf8");
      const temp = join(
        dirname(target.real),
        `.${basename(target.real)}.${randomBytes(6).toString("hex")}.tmp`,
      );
      const mode = target.stats ? target.stats.mode & 0o7777 : 0o644;
      const handle = await open(
        temp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        mode,
      );
      try {
        await handle.writeFile(data);
        await handle.sync();
      } catch (err) {
        await handle.close();
        await unlink(temp).catch(() => {});
        throw err;
      }
      await handle.close();
      try {
        await rename(temp, target.real);
      } catch (err) {
        await unlink(temp).catch(() => {});
        throw new FsToolError(describeErrno(err, path) ?? `${target.display} could not be written.`);
      }
      return ok(`${target.stats ? "Replaced" : "Created"} ${target.display} (${data.length} bytes).`);
    }),
  );

  server.registerTool(
    "create_directory",
    createDirectoryTool,
    guarded("create_directory", logger, async ({ path }) => {
      const target = await sandbox.resolve(path, "create");
      if (target.stats?.isDirectory()) return ok(`${target.display} already exists.`);
      if (target.stats) throw new FsToolError(`${target.display} exists and is a file.`);
      try {
        await mkdir(target.real, { recursive: true });
      } catch (err) {
        throw new FsToolError(describeErrno(err, path) ?? `${target.display} could not be created.`);
      }
      return ok(`Created directory ${target.display}.`);
    }),
  );

  server.registerTool(
    "move_file",
    moveFileTool,
    guarded("move_file", logger, async ({ source, destination, overwrite }) => {
      const from = await sandbox.resolve(source);
      if ((await lstat(from.lexical)).isSymbolicLink()) {
        throw new FsToolError(
          `${quote(source)} is a symbolic link; move the file it points to (${from.display}) instead.`,
        );
      }
      if (sandbox.roots.some((r) => r.real === from.real)) {
        throw new FsToolError(`${from.display} is an allowed root and cannot be moved.`);
      }
      const to: ResolvedPath = await sandbox.resolve(destination, "create");
      if (to.real === from.real) return ok(`${from.display} is already at ${to.display}.`);
      if (isWithin(to.real, from.real)) {
        throw new FsToolError(
          `${to.display} is inside ${from.display}; a directory cannot be moved into itself.`,
        );
      }
      await mustExistAsDirectory(dirname(to.real), destination, false);
      const fromIsDir = from.stats!.isDirectory();
      try {
        if (to.stats) {
          if (!overwrite)
            throw new FsToolError(`${to.display} already exists; pass overwrite: true to replace it.`);
          if (fromIsDir || to.stats.isDirectory()) {
            throw new FsToolError(`${to.display} already exists; only files can be replaced by a move.`);
          }
          await rename(from.real, to.real);
        } else if (!fromIsDir) {
          // link + unlink never replaces a file that appeared meanwhile.
          try {
            await link(from.real, to.real);
            await unlink(from.real);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
            await rename(from.real, to.real);
          }
        } else {
          await rename(from.real, to.real);
        }
      } catch (err) {
        if (err instanceof FsToolError) throw err;
        throw new FsToolError(describeErrno(err, destination) ?? `${from.display} could not be moved.`);
      }
      return ok(`Moved ${from.display} to ${to.display}.`);
    }),
  );
};
