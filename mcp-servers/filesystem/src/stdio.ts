import type { Readable, Writable } from "node:stream";
import type { Logger } from "@conhub/utils";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { FilesystemOptions } from "./config.js";
import { Sandbox } from "./sandbox.js";
import { createFilesystemMcpServer } from "./server.js";

export interface FilesystemStdioOptions {
  filesystem: FilesystemOptions;
  /** Must write to stderr (or nowhere): stdout carries the protocol. */
  logger: Logger;
  version: string;
  stdin?: Readable;
  stdout?: Writable;
}

export interface RunningStdioServer {
  /** Resolves when the client goes away (stdin ends) or `close` is called. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the filesystem MCP server over stdio (newline-delimited JSON-RPC on
 * stdin/stdout). Only protocol messages are written to stdout.
 */
export async function runFilesystemStdio(options: FilesystemStdioOptions): Promise<RunningStdioServer> {
  const sandbox = await Sandbox.create(options.filesystem);
  const server = createFilesystemMcpServer({ sandbox, logger: options.logger, version: options.version });
  const stdin = options.stdin ?? process.stdin;
  const transport = new StdioServerTransport(stdin, options.stdout ?? process.stdout);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  transport.onclose = () => resolveClosed();
  const close = async () => {
    await server.close();
    resolveClosed();
  };
  await server.connect(transport);

  // The SDK's stdio transport does not notice the end of stdin. When it ends,
  // answer the requests already received, then close.
  let inFlight = 0;
  let ending = false;
  const receive = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    if ("id" in message && "method" in message) inFlight += 1;
    receive?.(message);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message: JSONRPCMessage) => {
    await send(message);
    if ("id" in message && ("result" in message || "error" in message)) {
      inFlight -= 1;
      if (ending && inFlight <= 0) void close();
    }
  };
  stdin.once("end", () => {
    ending = true;
    if (inFlight <= 0) void close();
  });
  options.logger.info(
    { roots: sandbox.roots.map((r) => r.path), write: sandbox.enableWrite, hidden: sandbox.allowHidden },
    "filesystem MCP server on stdio",
  );
  return { closed, close };
}
