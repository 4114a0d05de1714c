import { statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, normalize } from "node:path";
import { type ConfigProblem, csv, variable } from "@conhub/config";
import { z } from "zod";

/** `~` and `~/…` mean the user's home directory, as in a shell. */
export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return join(homedir(), path.slice(2));
  return path;
}

const flag = (description: string) =>
  variable(
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
      .default("false")
      .transform((v) => v === "true" || v === "1" || v === "yes"),
    { description, defaultLabel: "false" },
  );

/** The filesystem target's own environment variables. */
export const filesystemConfigShape = {
  FILE_SYSTEM_ALLOWED_PATHS: variable(
    csv()
      .transform((paths) => paths.map(expandHome))
      .refine(
        (paths) => paths.every((p) => isAbsolute(p)),
        "every path must be absolute (or start with ~/), comma-separated",
      ),
    {
      description:
        "Comma-separated directories the filesystem MCP server may read (and write, when enabled); `~` is your home. Unset: your home directory. ConHub's data dir is never served unless a listed path lies inside it.",
      defaultLabel: "~",
      example: "~/code,/srv/docs",
    },
  ),
  FILE_SYSTEM_ALLOW_HIDDEN: flag(
    "Let the filesystem MCP server see dot-files and dot-directories (`.env`, `.git`, `.ssh`) inside its roots.",
  ),
  FILE_SYSTEM_ENABLE_WRITE: flag(
    "Register the filesystem MCP server's write tools (`write_file`, `create_directory`, `move_file`), confined to the same roots.",
  ),
};

/** The parts of the parsed configuration the filesystem server reads. */
export interface FilesystemConfig {
  CONHUB_DATA_DIR: string;
  FILE_SYSTEM_ALLOWED_PATHS: string[];
  FILE_SYSTEM_ALLOW_HIDDEN: boolean;
  FILE_SYSTEM_ENABLE_WRITE: boolean;
}

/** What the server is allowed to do, independent of how it was configured. */
export interface FilesystemOptions {
  /** Absolute directories; the first one is where relative paths resolve. */
  roots: string[];
  allowHidden: boolean;
  enableWrite: boolean;
  /**
   * Directories never served unless a root lies inside one of them: ConHub's
   * own data dir (its databases hold password and key hashes, encrypted
   * credentials and the job queue).
   */
  protectedPaths: string[];
}

export function filesystemOptionsFromConfig(config: FilesystemConfig): FilesystemOptions {
  const configured = config.FILE_SYSTEM_ALLOWED_PATHS.map((p) => normalize(p));
  return {
    roots: configured.length > 0 ? dedupe(configured) : [homedir()],
    allowHidden: config.FILE_SYSTEM_ALLOW_HIDDEN,
    enableWrite: config.FILE_SYSTEM_ENABLE_WRITE,
    protectedPaths: [normalize(config.CONHUB_DATA_DIR)],
  };
}

/** Explicitly configured roots must exist and be directories (the default may be missing in a container). */
export function validateFilesystemConfig(config: FilesystemConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const root of config.FILE_SYSTEM_ALLOWED_PATHS) {
    let isDir = false;
    try {
      isDir = statSync(root).isDirectory();
    } catch {
      problems.push({ variable: "FILE_SYSTEM_ALLOWED_PATHS", message: `${root} does not exist` });
      continue;
    }
    if (!isDir) {
      problems.push({ variable: "FILE_SYSTEM_ALLOWED_PATHS", message: `${root} is not a directory` });
    }
  }
  return problems;
}

function dedupe(paths: string[]): string[] {
  return [...new Set(paths.map((p) => (p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p)))];
}
