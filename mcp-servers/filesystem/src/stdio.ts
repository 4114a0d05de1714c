import type { Readable, Writable } from "node:stream";
import { type RunningStdioServer, serveStdio } from "@conhub/mcp-kit";
import type { Logger } from "@conhub/utils";
import type { FilesystemOptions } from "./config.js";
import { Sandbox } from "./sandbox.js";
import { createFilesystemMcpServer } from "./server.js";

export type { RunningStdioServer };

export interface FilesystemStdioOptions {
  filesystem: FilesystemOptions;
  /** Must write to stderr (or nowhere): stdout carries the protocol. */
  logger: Logger;
  version: string;
  stdin?: Readable;
  stdout?: Writable;
}

/**
 * Serves the filesystem MCP server over stdio (newline-delimited JSON-RPC on
 * stdin/stdout). Only protocol messages are written to stdout.
 */
export async function runFilesystemStdio(options: FilesystemStdioOptions): Promise<RunningStdioServer> {
  const sandbox = await Sandbox.create(options.filesystem);
  const server = createFilesystemMcpServer({ sandbox, logger: options.logger, version: options.version });
  const running = await serveStdio(server, options);
  options.logger.info(
    { roots: sandbox.roots.map((r) => r.path), write: sandbox.enableWrite, hidden: sandbox.allowHidden },
    "filesystem MCP server on stdio",
  );
  return running;
}
