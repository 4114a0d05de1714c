import type { Logger } from "@conhub/utils";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { FsToolError, quote } from "../errors.js";
import type { ResolvedPath, Sandbox } from "../sandbox.js";

export interface ToolDeps {
  sandbox: Sandbox;
  logger: Logger;
}

export type Register = (server: McpServer, deps: ToolDeps) => void;

export const readOnly = { readOnlyHint: true, openWorldHint: false } as const;

export const pathField = (what: string) =>
  z
    .string()
    .max(8192)
    .describe(
      `${what}: an absolute path inside an allowed root, or a path relative to the first root (see list_roots). Use forward slashes; ".." is not allowed.`,
    );

export const excludeField = z
  .array(z.string().min(1).max(500))
  .max(50)
  .default(["node_modules"])
  .describe(
    'Glob patterns of files and directories to skip (a pattern without "/" matches a name at any depth). Default ["node_modules"]; pass [] to search everything.',
  );

/** A directory to work in: the given one, or the first root. */
export async function resolveDirectory(sandbox: Sandbox, path: string | undefined): Promise<ResolvedPath> {
  const target = await sandbox.resolve(path ?? ".");
  if (!target.stats?.isDirectory()) {
    throw new FsToolError(
      `${quote(path ?? ".")} is a file, not a directory; use read_file or file_info on it.`,
    );
  }
  return target;
}

/** Where a search starts: the given directory, or every root that exists. */
export async function searchBases(sandbox: Sandbox, path: string | undefined): Promise<ResolvedPath[]> {
  if (path !== undefined) return [await resolveDirectory(sandbox, path)];
  const bases: ResolvedPath[] = [];
  for (const root of sandbox.liveRoots) bases.push(await resolveDirectory(sandbox, root.path));
  if (bases.length === 0) throw new FsToolError(`none of the allowed roots exists (${sandbox.rootList()}).`);
  return bases;
}
