import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { FetchHandler } from "./service-fetch.js";

export interface RunningServer {
  port: number;
  host: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/**
 * Listens on `host:port` and resolves once listening, or rejects with a clear
 * message (e.g. the port is taken) without leaving anything half-open.
 */
export async function listen(
  fetchHandler: FetchHandler,
  port: number,
  host: string,
  label: string,
): Promise<RunningServer> {
  // Requests whose handler has not produced a response yet: what a stop waits for.
  let inFlight = 0;
  const tracked: FetchHandler = async (request) => {
    inFlight += 1;
    try {
      return await fetchHandler(request);
    } finally {
      inFlight -= 1;
    }
  };
  const server = createAdaptorServer({ fetch: tracked }) as Server;
  // Keep-alive sockets must not hold a stopping process open.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const reason =
        err.code === "EADDRINUSE"
          ? `port ${port} is already in use (find the process with: lsof -i :${port})`
          : err.code === "EACCES"
            ? `not allowed to listen on port ${port}`
            : err.message;
      reject(new Error(`${label} cannot listen on ${host}:${port}: ${reason}`));
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    host,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const deadline = Date.now() + graceMs;
        server.close(() => {
          clearInterval(poll);
          resolve();
        });
        server.closeIdleConnections();
        // Once no handler is running (or the grace period is over), cut what is
        // left: idle keep-alive sockets, responses a client is not reading, and
        // streams (SSE, MCP), whose clients reconnect.
        const poll = setInterval(() => {
          if (inFlight === 0 || Date.now() >= deadline) {
            clearInterval(poll);
            server.closeAllConnections();
          }
        }, 25);
        poll.unref();
      }),
  };
}
