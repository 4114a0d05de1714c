import type { Readable, Writable } from "node:stream";
import type { Logger } from "@conhub/utils";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

export interface StdioOptions {
  /** Must write to stderr (or nowhere): stdout carries the protocol. */
  logger: Logger;
  stdin?: Readable;
  stdout?: Writable;
}

export interface RunningStdioServer {
  /** Resolves when the client goes away (stdin ends) or `close` is called. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** Anything with the SDK server's connect/close (a `Server` or an `McpServer`). */
export type ConnectableServer = Pick<Server, "connect" | "close">;

/**
 * Serves an MCP server over stdio (newline-delimited JSON-RPC on
 * stdin/stdout). Only protocol messages are written to `stdout`.
 */
export async function serveStdio(
  server: ConnectableServer,
  options: StdioOptions,
): Promise<RunningStdioServer> {
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
  return { closed, close };
}
