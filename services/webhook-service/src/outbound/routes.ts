import {
  type AuthEnv,
  type AuthVerifier,
  authenticate,
  callerOrganization,
  jsonBody,
  pathParams,
  principalOf,
  queryParams,
  requireScope,
} from "@conhub/middleware";
import { conhubEventTypes } from "@conhub/models";
import type { JobQueue } from "@conhub/storage";
import { errors, type Logger, type SecretBox } from "@conhub/utils";
import { OutboundNetworkError, resolveChecked } from "@conhub/utils/net";
import { Hono } from "hono";
import type { Kysely } from "kysely";
import { z } from "zod";
import type { OutboundSettings } from "./config.js";
import { cancelPendingDeliveries, fanOut, newId, nowIso } from "./delivery.js";
import type { OutboundAttemptsTable, OutboundDatabase, OutboundEndpointsTable } from "./schema.js";
import { endpointSecretContext, newEndpointSecret } from "./secrets.js";

export interface OutboundRoutesDeps {
  db: Kysely<OutboundDatabase>;
  queue: JobQueue;
  box: SecretBox;
  verifier: AuthVerifier;
  logger: Logger;
  settings: OutboundSettings;
}

const Events = z
  .array(z.enum(conhubEventTypes))
  .min(1, "subscribe to at least one event type")
  .transform((events) => [...new Set(events)]);
const Url = z.string().trim().min(1).max(2048);
const Description = z.string().trim().max(500);

const CreateEndpointBody = z.strictObject({
  url: Url,
  events: Events,
  description: Description.optional(),
});
const PatchEndpointBody = z
  .strictObject({
    url: Url.optional(),
    events: Events.optional(),
    description: Description.nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, {
    message: "give at least one of url, events, description, enabled",
  });
const RotateSecretBody = z.strictObject({
  /** Stop signing with the old secret at once (it leaked) instead of after the grace period. */
  revokeOldSecret: z.boolean().optional(),
});
/** How long the secret before a rotation keeps signing deliveries, so receivers can switch without losing any. */
export const ROTATION_GRACE_MS = 24 * 3_600_000;
const EndpointParams = z.object({ id: z.string().regex(/^ep_[0-9a-f]{24}$/, "not an endpoint id") });
const AttemptsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

function publicEndpoint(row: OutboundEndpointsTable) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: JSON.parse(row.events) as string[],
    previousSecretExpiresAt:
      row.previous_secret_expires_at && Date.parse(row.previous_secret_expires_at) > Date.now()
        ? row.previous_secret_expires_at
        : null,
    enabled: row.enabled === 1,
    disabledAt: row.disabled_at,
    disabledReason: row.disabled_reason,
    failedDeliveriesInARow: row.failed_deliveries,
    failingSince: row.failing_since,
    lastSuccessAt: row.last_success_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function publicAttempt(row: OutboundAttemptsTable) {
  return {
    id: row.id,
    eventId: row.message_id,
    eventType: row.event_type,
    attempt: row.attempt,
    status: row.status,
    statusCode: row.status_code,
    error: row.error,
    response: row.response,
    durationMs: row.duration_ms,
    nextRetryAt: row.next_retry_at,
    createdAt: row.created_at,
  };
}

const encodeCursor = (createdAt: string, id: string) =>
  Buffer.from(`${createdAt}|${id}`).toString("base64url");
function decodeCursor(cursor: string): { createdAt: string; id: string } {
  const [createdAt, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (!createdAt || !id) throw errors.invalid("The cursor is not one this API returned.");
  return { createdAt, id };
}

/**
 * An endpoint URL: https (http only where private networks are allowed), no
 * credentials in it, and a host that resolves to addresses the policy allows
 * (checked again, after DNS, at every delivery).
 */
async function checkedUrl(raw: string, settings: OutboundSettings): Promise<string> {
  const refuse = (reason: string) =>
    errors.unprocessable("The endpoint URL cannot be used.", [{ field: "body.url", reason }]);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse("not a URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && settings.allowHttp)) {
    throw refuse(
      url.protocol === "http:"
        ? "must be https:// (http:// is accepted only when an admin sets WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
        : "must be an https:// URL",
    );
  }
  if (url.username || url.password) throw refuse("must not contain a user name or password");
  url.hash = "";
  try {
    await resolveChecked(url.hostname, settings.policy);
  } catch (err) {
    if (err instanceof OutboundNetworkError)
      throw refuse(
        `${err.message} Endpoints must be on public addresses unless an admin sets WEBHOOK_ALLOW_PRIVATE_NETWORKS.`,
      );
    throw err;
  }
  return url.href;
}

/**
 * `/api/webhooks/endpoints`: an organization's outbound webhook endpoints.
 * Members (scope `sources:read`) list them and their attempts; admins
 * (scope `admin`) create, change, delete, rotate secrets and send tests.
 */
export function outboundRoutes(deps: OutboundRoutesDeps): Hono<AuthEnv> {
  const { db, box, settings } = deps;
  const app = new Hono<AuthEnv>();
  app.use("*", authenticate({ verifier: deps.verifier }));
  const read = requireScope("sources:read");
  const manage = requireScope("admin");

  const ownEndpoint = async (orgId: string, id: string) => {
    const row = await db
      .selectFrom("outbound_endpoints")
      .selectAll()
      .where("id", "=", id)
      .where("organization_id", "=", orgId)
      .executeTakeFirst();
    if (!row) throw errors.notFound(`Endpoint ${id}`);
    return row;
  };

  app.post("/", manage, jsonBody(CreateEndpointBody), async (c) => {
    const body = c.req.valid("json");
    const principal = principalOf(c);
    const url = await checkedUrl(body.url, settings);
    const id = newId("ep");
    const secret = newEndpointSecret();
    const now = nowIso();
    await db
      .insertInto("outbound_endpoints")
      .values({
        id,
        organization_id: principal.organizationId,
        url,
        description: body.description || null,
        events: JSON.stringify(body.events),
        secret: box.seal(secret, endpointSecretContext(id)),
        previous_secret: null,
        previous_secret_expires_at: null,
        enabled: 1,
        disabled_at: null,
        disabled_reason: null,
        failed_deliveries: 0,
        failing_since: null,
        last_success_at: null,
        created_by: principal.userId,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const row = await ownEndpoint(principal.organizationId, id);
    return c.json({ endpoint: { ...publicEndpoint(row), secret } }, 201);
  });

  app.get("/", read, async (c) => {
    const rows = await db
      .selectFrom("outbound_endpoints")
      .selectAll()
      .where("organization_id", "=", callerOrganization(c))
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .execute();
    return c.json({ endpoints: rows.map(publicEndpoint) });
  });

  app.get("/:id", read, pathParams(EndpointParams), async (c) => {
    const row = await ownEndpoint(callerOrganization(c), c.req.valid("param").id);
    return c.json({ endpoint: publicEndpoint(row) });
  });

  app.patch("/:id", manage, pathParams(EndpointParams), jsonBody(PatchEndpointBody), async (c) => {
    const orgId = callerOrganization(c);
    const row = await ownEndpoint(orgId, c.req.valid("param").id);
    const body = c.req.valid("json");
    const url = body.url === undefined ? undefined : await checkedUrl(body.url, settings);
    const now = nowIso();
    // One transaction: a disabled endpoint never shows deliveries still pending.
    await db.transaction().execute(async (tx) => {
      await tx
        .updateTable("outbound_endpoints")
        .set({
          ...(url === undefined ? {} : { url }),
          ...(body.events === undefined ? {} : { events: JSON.stringify(body.events) }),
          ...(body.description === undefined ? {} : { description: body.description || null }),
          ...(body.enabled === true && row.enabled !== 1
            ? {
                enabled: 1,
                disabled_at: null,
                disabled_reason: null,
                failed_deliveries: 0,
                failing_since: null,
              }
            : {}),
          ...(body.enabled === false && row.enabled === 1
            ? { enabled: 0, disabled_at: now, disabled_reason: "Disabled by an admin." }
            : {}),
          updated_at: now,
        })
        .where("id", "=", row.id)
        .where("organization_id", "=", orgId)
        .execute();
      if (body.enabled === false && row.enabled === 1) await cancelPendingDeliveries(tx, row.id, now);
    });
    return c.json({ endpoint: publicEndpoint(await ownEndpoint(orgId, row.id)) });
  });

  app.delete("/:id", manage, pathParams(EndpointParams), async (c) => {
    const orgId = callerOrganization(c);
    const row = await ownEndpoint(orgId, c.req.valid("param").id);
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom("outbound_attempts").where("endpoint_id", "=", row.id).execute();
      await tx.deleteFrom("outbound_deliveries").where("endpoint_id", "=", row.id).execute();
      await tx
        .deleteFrom("outbound_endpoints")
        .where("id", "=", row.id)
        .where("organization_id", "=", orgId)
        .execute();
    });
    return c.body(null, 204);
  });

  app.post(
    "/:id/rotate-secret",
    manage,
    pathParams(EndpointParams),
    jsonBody(RotateSecretBody),
    async (c) => {
      const orgId = callerOrganization(c);
      const row = await ownEndpoint(orgId, c.req.valid("param").id);
      const revoke = c.req.valid("json").revokeOldSecret === true;
      const secret = newEndpointSecret();
      await db
        .updateTable("outbound_endpoints")
        .set({
          secret: box.seal(secret, endpointSecretContext(row.id)),
          // The old secret signs too for a day (unless revoked), so receivers can switch without losing deliveries.
          previous_secret: revoke ? null : row.secret,
          previous_secret_expires_at: revoke ? null : new Date(Date.now() + ROTATION_GRACE_MS).toISOString(),
          updated_at: nowIso(),
        })
        .where("id", "=", row.id)
        .where("organization_id", "=", orgId)
        .execute();
      return c.json({ endpoint: { ...publicEndpoint(await ownEndpoint(orgId, row.id)), secret } });
    },
  );

  app.get("/:id/attempts", read, pathParams(EndpointParams), queryParams(AttemptsQuery), async (c) => {
    const orgId = callerOrganization(c);
    const row = await ownEndpoint(orgId, c.req.valid("param").id);
    const q = c.req.valid("query");
    let query = db
      .selectFrom("outbound_attempts")
      .selectAll()
      .where("endpoint_id", "=", row.id)
      .where("organization_id", "=", orgId);
    if (q.cursor) {
      const { createdAt, id } = decodeCursor(q.cursor);
      query = query.where((eb) =>
        eb.or([
          eb("created_at", "<", createdAt),
          eb.and([eb("created_at", "=", createdAt), eb("id", "<", id)]),
        ]),
      );
    }
    const rows = await query.orderBy("created_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
    const last = rows[rows.length - 1];
    return c.json({
      attempts: rows.map(publicAttempt),
      ...(rows.length === q.limit && last ? { next: encodeCursor(last.created_at, last.id) } : {}),
    });
  });

  app.post("/:id/test", manage, pathParams(EndpointParams), async (c) => {
    const orgId = callerOrganization(c);
    const row = await ownEndpoint(orgId, c.req.valid("param").id);
    if (row.enabled !== 1) {
      throw errors.conflict(
        `This endpoint is disabled (${row.disabled_reason ?? "no reason recorded"}); re-enable it with PATCH {"enabled": true} first.`,
      );
    }
    const id = newId("evt");
    const timestamp = nowIso();
    const body = JSON.stringify({
      type: "ping",
      timestamp,
      data: { endpointId: row.id, message: "A test event sent from ConHub." },
    });
    await fanOut(deps, { id, organizationId: orgId, type: "ping", body }, [row.id]);
    return c.json({ event: { id, type: "ping", timestamp } }, 202);
  });

  return app;
}
