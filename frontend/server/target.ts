import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTargetApp, defineTarget } from "@conhub/middleware";
import { serveStatic } from "@hono/node-server/serve-static";
import { collectPlatformStatus } from "./status.js";

/** Where `next build` puts the static export of the dashboard. */
export const dashboardDir = fileURLToPath(new URL("../out", import.meta.url));

/**
 * The frontend target (port 3000, and `/` of the gateway): serves the Next.js
 * dashboard's static export and `/status.json`, the live status of every
 * target that the first page shows.
 */
export const frontendTarget = defineTarget({
  name: "frontend",
  configShape: {},
  capabilities: {
    summary:
      "Live status page of every service. The full dashboard (sources, search, keys, billing) is not built yet.",
    available: ["GET / (status page)", "GET /status.json", "GET /health", "GET /ready"],
    planned: ["sign-in", "sources and sync progress", "search", "API keys and MCP setup", "billing"],
    issue: null,
  },
  uses: [],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this, {
      extraReadiness: [
        {
          name: "dashboard-build",
          kind: "embedded",
          async check() {
            if (!existsSync(join(dashboardDir, "index.html"))) {
              throw new Error(
                "The dashboard is not built: run `npm run build -w frontend` (npm ci does it).",
              );
            }
          },
        },
      ],
    });
    app.get("/status.json", async (c) => {
      const status = await collectPlatformStatus(ctx.services, ctx.config.urls, ctx.mode, ctx.version);
      c.header("cache-control", "no-store");
      return c.json(status);
    });
    app.use(
      "/_next/static/*",
      serveStatic({
        root: dashboardDir,
        onFound: (_path, c) => {
          c.header("cache-control", "public, max-age=31536000, immutable");
        },
      }),
    );
    app.use("*", serveStatic({ root: dashboardDir }));
    app.use("*", serveStatic({ root: dashboardDir, rewriteRequestPath: (path) => `${path}.html` }));
    return { fetch: app.fetch };
  },
});
