import { createTargetApp, defineTarget } from "@conhub/middleware";
import { filesystemConfigShape, filesystemOptionsFromConfig, validateFilesystemConfig } from "./config.js";
import { mcpPath, mountMcpEndpoint } from "./http.js";
import { Sandbox } from "./sandbox.js";
import { createFilesystemMcpServer, readToolNames, writeToolNames } from "./server.js";

/**
 * The filesystem MCP server as a target: Streamable HTTP at `/mcp` on its
 * port (3007), confined to FILE_SYSTEM_ALLOWED_PATHS, plus the kit's
 * `/health`, `/ready`, `/info` and `/metrics`. The same server runs over
 * stdio through `conhub fs-mcp` (`runFilesystemStdio`).
 */
export const filesystemTarget = defineTarget({
  name: "filesystem",
  configShape: filesystemConfigShape,
  validateConfig: validateFilesystemConfig,
  capabilities: {
    summary:
      "Filesystem MCP server: list, tree, read (line ranges), search names and content, file info — confined to FILE_SYSTEM_ALLOWED_PATHS; write tools only when FILE_SYSTEM_ENABLE_WRITE=true. Streamable HTTP at /mcp (stateless) and stdio (`conhub fs-mcp`). No authentication of its own: bind it to localhost or reach it through the MCP service.",
    available: [
      "POST /mcp (Streamable HTTP, stateless JSON responses)",
      `tools: ${readToolNames.join(", ")}`,
      `write tools (FILE_SYSTEM_ENABLE_WRITE=true): ${writeToolNames.join(", ")}`,
      "stdio: conhub fs-mcp",
      "GET /health",
      "GET /ready",
      "GET /info",
      "GET /metrics",
    ],
    planned: ["exposed through the MCP service as fs_* tools, with ConHub authentication"],
    issue: 6,
  },
  uses: [],
  migrations: {},
  async init(ctx) {
    const sandbox = await Sandbox.create(filesystemOptionsFromConfig(ctx.config));
    const missing = sandbox.roots.filter((r) => r.real === null).map((r) => r.path);
    if (missing.length > 0) ctx.logger.warn({ missing }, "filesystem roots that do not exist are ignored");
    ctx.logger.info(
      { roots: sandbox.roots.map((r) => r.path), write: sandbox.enableWrite, hidden: sandbox.allowHidden },
      "filesystem MCP server confined to its roots",
    );
    const app = await createTargetApp(ctx, this, { isStreamingPath: (p) => p === mcpPath });
    mountMcpEndpoint(app, {
      createServer: () => createFilesystemMcpServer({ sandbox, logger: ctx.logger, version: ctx.version }),
      allowedOrigins: ctx.config.CORS_ORIGINS,
      logger: ctx.logger,
    });
    return { fetch: app.fetch };
  },
});
