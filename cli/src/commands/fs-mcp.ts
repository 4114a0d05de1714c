import { coreEnv, formatProblems, parseEnv } from "@conhub/config";
import {
  filesystemConfigShape,
  filesystemOptionsFromConfig,
  runFilesystemStdio,
  validateFilesystemConfig,
} from "@conhub/mcp-filesystem";
import { createLogger } from "@conhub/utils";
import { version } from "../version.js";

/**
 * `conhub fs-mcp`: the filesystem MCP server on stdio, for an agent that
 * starts it as a child process. stdout carries only JSON-RPC; logs and
 * problems go to stderr. Runs until the client closes stdin or a signal.
 */
export async function runFsMcp(opts: { roots?: string }): Promise<number> {
  const env = { ...process.env };
  if (opts.roots !== undefined) env.FILE_SYSTEM_ALLOWED_PATHS = opts.roots;
  const parsed = parseEnv({ ...coreEnv, ...filesystemConfigShape }, env);
  const problems = parsed.ok ? validateFilesystemConfig(parsed.config) : parsed.problems;
  if (!parsed.ok || problems.length > 0) {
    console.error(`conhub fs-mcp cannot start:\n${formatProblems(problems)}`);
    return 2;
  }
  const config = parsed.config;
  const logger = createLogger({ level: config.LOG_LEVEL, name: "filesystem" });
  const server = await runFilesystemStdio({
    filesystem: filesystemOptionsFromConfig(config),
    logger,
    version,
  });
  const stop = () => void server.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await server.closed;
  logger.flush();
  return 0;
}
