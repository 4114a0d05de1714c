import { jsonBody, pathParams, requireService, type ServiceCallerEnv } from "@conhub/middleware";
import type { Dialect, JobQueue } from "@conhub/storage";
import { errors, type SecretBox } from "@conhub/utils";
import { Hono } from "hono";
import type { Kysely } from "kysely";
import { z } from "zod";
import { isIndexablePath } from "../connectors/paths.js";
import type { DataDatabase } from "../db/schema.js";
import { SourceParams } from "../sources/schemas.js";
import { requestSync } from "../sync/requests.js";

export interface InternalRoutesDeps {
  db: Kysely<DataDatabase>;
  dialect: Dialect;
  queue: JobQueue;
  box: SecretBox;
  /** The master secret service tokens derive from. */
  serviceSecret: string;
}

const WebhookSyncBody = z.strictObject({
  mode: z.enum(["full", "incremental"]),
  paths: z.array(z.string().min(1).max(4096)).max(10_000).optional(),
});

/**
 * Routes for other ConHub services only, under `/internal` (neither nginx nor
 * the one-process gateway forwards that prefix: it falls to the dashboard).
 * Every call needs a service token of the webhook service.
 */
export function internalRoutes(deps: InternalRoutesDeps): Hono<ServiceCallerEnv> {
  const { db, box } = deps;
  const app = new Hono<ServiceCallerEnv>();
  app.use(
    "*",
    requireService({
      masterSecret: deps.serviceSecret,
      callee: "data-service",
      allowed: ["webhook-service"],
    }),
  );

  // What the webhook service needs to verify and route a provider's delivery to a source.
  app.get("/sources/:id/webhook", pathParams(SourceParams), async (c) => {
    const id = c.req.valid("param").id;
    const source = await db
      .selectFrom("sources")
      .select(["id", "organization_id", "type", "config", "webhook_secret"])
      .where("id", "=", id)
      .executeTakeFirst();
    if (!source) throw errors.notFound(`Source ${id}`);
    const config = JSON.parse(source.config) as Record<string, unknown>;
    return c.json({
      sourceId: source.id,
      organizationId: source.organization_id,
      type: source.type,
      config: {
        ...(typeof config.url === "string" ? { url: config.url } : {}),
        ...(typeof config.branch === "string" ? { branch: config.branch } : {}),
      },
      secret: box.open(source.webhook_secret, `source:${source.id}:webhook`),
    });
  });

  app.post("/sources/:id/sync", pathParams(SourceParams), jsonBody(WebhookSyncBody), async (c) => {
    const id = c.req.valid("param").id;
    const body = c.req.valid("json");
    const bad = (body.paths ?? []).findIndex((p) => !isIndexablePath(p));
    if (bad >= 0) {
      throw errors.unprocessable("The paths are not valid.", [
        { field: `body.paths.${bad}`, reason: "must be a relative path of plain segments separated by /" },
      ]);
    }
    const queued = await requestSync(deps, id, {
      mode: body.mode,
      trigger: "webhook",
      ...(body.paths ? { paths: body.paths } : {}),
    });
    if (!queued) throw errors.notFound(`Source ${id}`);
    return c.json({ queued: true, jobId: queued.jobId }, 202);
  });
  return app;
}
