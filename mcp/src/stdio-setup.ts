import { variable } from "@conhub/config";
import type { EngineConfig } from "@conhub/indexer";
import { httpFetch } from "@conhub/middleware";
import type { Logger } from "@conhub/utils";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { z } from "zod";
import { indexerApi, indexerHttpBackend } from "./backend/indexer-http.js";
import { createContextServer } from "./server.js";
import { McpUpstream } from "./upstream.js";

/** The variables `conhub mcp` reads besides the data dir and the indexer's own. */
export const mcpClientEnv = {
  CONHUB_URL: variable(
    z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === "" ? undefined : v))
      .refine(
        (v) => v === undefined || (/^https?:\/\//.test(v) && URL.canParse(v)),
        "must be an http:// or https:// URL",
      ),
    {
      description:
        "Where `conhub mcp` finds a running ConHub (its gateway). Unset: http://127.0.0.1:<GATEWAY_PORT>. When nothing answers there, it serves the local index of the data dir.",
      example: "https://conhub.example.com",
    },
  ),
  CONHUB_API_KEY: variable(
    z
      .string()
      .trim()
      .optional()
      .transform((v) => (v === "" ? undefined : v)),
    { description: "The API key `conhub mcp` uses with a running ConHub.", secret: true },
  ),
};

export interface StdioContextOptions {
  /** The ConHub base URL (gateway). */
  conhubUrl: string;
  /** The URL was asked for explicitly (`--url`): not answering is an error, not a reason to go local. */
  urlExplicit: boolean;
  apiKey: string | undefined;
  /** Serve the local index without looking for a server. */
  embedded: boolean;
  /** For the local index. */
  engineConfig: EngineConfig;
  logger: Logger;
  version: string;
  /** How long to wait for the server's /health (default 1.5 s). */
  probeTimeoutMs?: number;
}

export type StdioContext =
  | { ok: true; mode: "remote" | "embedded"; server: Server; close(): Promise<void> }
  | { ok: false; message: string };

async function answers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(new URL("/health", url), { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Chooses where `conhub mcp` answers from and builds its server: a running
 * ConHub (tools call the indexer through the gateway with the API key; the
 * filesystem tools come from that ConHub's MCP service), or the embedded
 * index of the data dir (organization `local`) when none answers.
 */
export async function openStdioContext(options: StdioContextOptions): Promise<StdioContext> {
  const { logger, version } = options;
  const base = options.conhubUrl.replace(/\/+$/, "");
  const remote = !options.embedded && (await answers(base, options.probeTimeoutMs ?? 1500));
  if (!remote && options.urlExplicit && !options.embedded) {
    return {
      ok: false,
      message: `ConHub does not answer at ${base} (GET /health). Start it (conhub start), fix --url, or pass --embedded to serve the local index.`,
    };
  }
  if (remote) {
    if (!options.apiKey) {
      return {
        ok: false,
        message: `ConHub answers at ${base}, but CONHUB_API_KEY is not set. Create an API key in the dashboard (or POST /api/auth/api-keys) and set CONHUB_API_KEY in the MCP client's configuration (conhub mcp config prints it), or pass --embedded to serve the local index instead.`,
      };
    }
    const authorization = `Bearer ${options.apiKey}`;
    const gateway = httpFetch(base);
    try {
      const check = await gateway(`${indexerApi}/sources`, {
        headers: { authorization },
        signal: AbortSignal.timeout(10_000),
      });
      await check.body?.cancel();
      if (check.status === 401) {
        return {
          ok: false,
          message: `ConHub at ${base} refused CONHUB_API_KEY (invalid, revoked or expired). Create a new key in the dashboard and update the MCP client's configuration.`,
        };
      }
      if (!check.ok)
        logger.warn({ status: check.status }, "the indexer did not answer the key check; tools may fail");
    } catch (err) {
      logger.warn({ err }, "the indexer did not answer the key check; tools may fail");
    }
    const filesystem = new McpUpstream({
      label: "filesystem",
      prefix: "",
      only: (name) => name.startsWith("fs_"),
      endpoint: new URL(`${base}/mcp`),
      fetch: (url, init) => fetch(url, init),
      headers: { authorization },
      logger,
      version,
    });
    const server = createContextServer({
      backend: indexerHttpBackend({ fetch: gateway, authorization }),
      upstreams: [filesystem],
      logger,
      version,
    });
    logger.info({ conhub: base }, "conhub mcp: serving a running ConHub over stdio");
    return {
      ok: true,
      mode: "remote",
      server,
      async close() {
        await filesystem.close();
      },
    };
  }
  const { openEmbeddedEngine } = await import("@conhub/indexer");
  const { embeddedBackend } = await import("./backend/embedded.js");
  let engine: Awaited<ReturnType<typeof openEmbeddedEngine>>;
  try {
    engine = await openEmbeddedEngine(options.engineConfig, logger);
  } catch (err) {
    return {
      ok: false,
      message: `cannot open the local index in ${options.engineConfig.CONHUB_DATA_DIR}: ${(err as Error).message}`,
    };
  }
  const server = createContextServer({ backend: embeddedBackend(engine), logger, version });
  logger.info(
    {
      dataDir: options.engineConfig.CONHUB_DATA_DIR,
      reason: options.embedded ? "--embedded" : `no ConHub at ${base}`,
    },
    "conhub mcp: serving the local index over stdio",
  );
  return { ok: true, mode: "embedded", server, close: () => engine.close() };
}
