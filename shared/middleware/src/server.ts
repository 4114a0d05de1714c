import type { Server } from "node:http";
import { type AddressInfo, BlockList, isIP } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import type { FetchHandler } from "./service-fetch.js";

export interface RunningServer {
  port: number;
  host: string;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/** Plain IPv4 for IPv4-mapped IPv6 addresses (`::ffff:127.0.0.1` → `127.0.0.1`). */
function normaliseAddress(address: string | undefined): string | undefined {
  return address?.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Addresses and CIDR ranges (`10.0.0.0/8`, `::1`) whose `X-Real-IP` / `X-Forwarded-For` are believed. */
export function trustedProxyList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split("/");
    if (!address) continue;
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
}

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
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
  trustedProxies: BlockList = trustedProxyList(["127.0.0.1", "::1"]),
): Promise<RunningServer> {
  // Requests whose handler has not produced a response yet: what a stop waits for.
  let inFlight = 0;
  const tracked = async (request: Request, env?: { incoming?: { socket?: { remoteAddress?: string } } }) => {
    // The listener is the trust boundary for the client's address: services
    // read X-Real-IP, which only a trusted proxy (nginx, the gateway) may set.
    const peer = normaliseAddress(env?.incoming?.socket?.remoteAddress);
    if (peer !== undefined && (!isTrusted(trustedProxies, peer) || !request.headers.has("x-real-ip"))) {
      if (!isTrusted(trustedProxies, peer)) request.headers.delete("x-forwarded-for");
      request.headers.set("x-real-ip", peer);
    }
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
