import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { Writable } from "node:stream";
import { coreEnv, formatProblems, gatewayEnv, parseEnv } from "@conhub/config";
import {
  clientConfig,
  conhubBaseUrl,
  type McpClientName,
  mcpClientEnv,
  mcpClients,
  openStdioContext,
  serveStdio,
} from "@conhub/mcp";
import { createLogger } from "@conhub/utils";
import { version } from "../version.js";
import { resolveEngineConfig } from "./search.js";

export interface McpCliOptions {
  url?: string;
  embedded?: boolean;
  dataDir?: string;
}

/** The environment `conhub mcp` reads, parsed once. */
function parseMcpEnv() {
  return parseEnv(
    { LOG_LEVEL: coreEnv.LOG_LEVEL, GATEWAY_PORT: gatewayEnv.GATEWAY_PORT, ...mcpClientEnv },
    process.env,
  );
}

/**
 * From here on, anything written to `process.stdout` — a dependency's
 * `console.log`, a stray warning — goes to stderr instead; only the returned
 * stream writes to the real stdout, and only the MCP transport gets it.
 */
function reserveStdoutForProtocol(): Writable {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) =>
    (process.stderr.write as (...args: unknown[]) => boolean)(chunk, ...rest)) as typeof process.stdout.write;
  for (const method of ["log", "info", "debug"] as const) console[method] = console.error;
  return new Writable({
    write(chunk, encoding, callback) {
      write(chunk, encoding, callback);
    },
  });
}

/**
 * `conhub mcp`: ConHub's MCP server on stdio, for an agent that starts it.
 * Serves a running ConHub (CONHUB_URL, with CONHUB_API_KEY), or the local
 * index of the data dir when none answers. stdout carries only JSON-RPC.
 */
export async function runMcp(opts: McpCliOptions): Promise<number> {
  const protocolOut = reserveStdoutForProtocol();
  const parsed = parseMcpEnv();
  if (!parsed.ok) {
    console.error(`conhub mcp cannot start:\n${formatProblems(parsed.problems)}`);
    return 2;
  }
  const engine = resolveEngineConfig(opts);
  if (!engine.ok) {
    console.error(`conhub mcp cannot start:\n${engine.message}`);
    return 2;
  }
  const config = parsed.config;
  const logger = createLogger({ level: config.LOG_LEVEL, name: "mcp" });
  const context = await openStdioContext({
    conhubUrl: conhubBaseUrl(opts.url ?? config.CONHUB_URL ?? `http://127.0.0.1:${config.GATEWAY_PORT}`),
    urlExplicit: opts.url !== undefined,
    apiKey: config.CONHUB_API_KEY,
    embedded: Boolean(opts.embedded),
    engineConfig: engine.config,
    logger,
    version,
  });
  if (!context.ok) {
    console.error(`conhub mcp: ${context.message}`);
    logger.flush();
    return 2;
  }
  const running = await serveStdio(context.server, { logger, stdout: protocolOut });
  const stop = () => void running.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await running.closed;
  await context.close();
  logger.flush();
  return 0;
}

/** `conhub` on PATH, as a GUI client would find it; else this installation's absolute paths. */
function stdioCommand(): { command: string; args: string[] } {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, "conhub"), constants.X_OK);
      return { command: "conhub", args: ["mcp"] };
    } catch {
      // not in this directory
    }
  }
  const bin = new URL("../../bin/conhub.mjs", import.meta.url).pathname;
  return { command: process.execPath, args: [bin, "mcp"] };
}

export interface McpConfigOptions {
  client?: string;
  http?: boolean;
  url?: string;
}

/** `conhub mcp config --client …`: the snippet to paste on stdout, where to paste it on stderr. */
export function runMcpConfig(opts: McpConfigOptions): number {
  if (!opts.client || !(mcpClients as readonly string[]).includes(opts.client)) {
    console.error(`conhub mcp config: --client must be one of ${mcpClients.join(", ")}`);
    return 2;
  }
  const parsed = parseMcpEnv();
  if (!parsed.ok) {
    console.error(`conhub mcp config:\n${formatProblems(parsed.problems)}`);
    return 2;
  }
  const url = opts.url ?? parsed.config.CONHUB_URL ?? `http://127.0.0.1:${parsed.config.GATEWAY_PORT}`;
  if (!/^https?:\/\//.test(url) || !URL.canParse(url)) {
    console.error(`conhub mcp config: --url must be an http:// or https:// URL (got ${url})`);
    return 2;
  }
  const config = clientConfig({
    client: opts.client as McpClientName,
    transport: opts.http ? "http" : "stdio",
    conhubUrl: url,
    command: stdioCommand(),
  });
  process.stdout.write(`${config.text}\n`);
  console.error(config.where);
  return 0;
}
