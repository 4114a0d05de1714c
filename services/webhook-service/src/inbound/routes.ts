import {
  type AuthEnv,
  type AuthVerifier,
  authenticate,
  callerOrganization,
  pathParams,
  queryParams,
  requireScope,
} from "@conhub/middleware";
import type { JobQueue, RateLimiter } from "@conhub/storage";
import { AppError, errors, type Logger } from "@conhub/utils";
import { type Context, Hono } from "hono";
import Stripe from "stripe";
import { z } from "zod";
import {
  type DeliveriesDb,
  finish,
  type NewDelivery,
  nowIso,
  publicDelivery,
  queueProcessing,
  recordRejected,
  recordVerified,
  STRIPE_EVENTS_QUEUE,
} from "./deliveries.js";
import { providerSpecs, type SourceProvider, sourceProviders } from "./providers.js";
import type { SourceDirectory } from "./sources.js";

export interface InboundRoutesDeps {
  db: DeliveriesDb;
  queue: JobQueue;
  sources: SourceDirectory;
  verifier: AuthVerifier;
  logger: Logger;
  maxBodyBytes: number;
  processAttempts: number;
  stripeWebhookSecret: string | undefined;
  /**
   * Bounds how many rejected deliveries one source (or the Stripe endpoint)
   * records: anyone who knows a source id can post to it, so past the limit
   * a bad signature gets 429 and is not written to the log.
   */
  rejections?: { limiter: RateLimiter; limit: number; windowMs: number };
}

const SOURCE_ID = /^src_[0-9a-f]{24}$/;

/** The answer for an unknown source, a source of another type or a malformed id: the router's own 404. */
function nothingHere(c: Context): never {
  throw new AppError("not_found", `No route matches ${c.req.method} ${c.req.path}.`);
}

/** The raw body, read up to `limit` bytes (413 beyond). Signatures are checked on these exact bytes. */
async function rawBody(request: Request, limit: number): Promise<Buffer> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > limit) throw errors.payloadTooLarge(limit);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw errors.payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const DeliveriesQuery = z.strictObject({
  sourceId: z.string().regex(SOURCE_ID, "must be a source id (src_…)").optional(),
  status: z.enum(["received", "queued", "processed", "ignored", "failed", "rejected"]).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z
    .string()
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, "must be the `next` value of a previous page")
    .optional(),
});
const DeliveryParams = z.strictObject({
  id: z.string().regex(/^whd_[0-9a-f]{24}$/, "must be a delivery id (whd_…)"),
});

const encodeCursor = (receivedAt: string, id: string) =>
  Buffer.from(`${receivedAt}|${id}`, "utf8").toString("base64url");
function decodeCursor(cursor: string): { receivedAt: string; id: string } {
  const [receivedAt, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (!receivedAt || !id) {
    throw errors.invalid("The query parameters are invalid.", [
      { field: "query.cursor", reason: "must be the `next` value of a previous page" },
    ]);
  }
  return { receivedAt, id };
}

/**
 * The webhook service's inbound routes under `/api/webhooks`: provider
 * deliveries (unauthenticated, verified by signature) and the delivery log
 * (organization admins).
 */
export function inboundRoutes(deps: InboundRoutesDeps): Hono {
  const { db, queue, sources } = deps;
  const app = new Hono();

  const limitRejections = async (scope: string) => {
    if (!deps.rejections) return;
    const { limiter, limit, windowMs } = deps.rejections;
    const decision = await limiter.hit(`webhooks:rejected:${scope}`, limit, windowMs);
    if (!decision.allowed) throw errors.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  };

  // ---- provider deliveries bound to a source
  for (const provider of sourceProviders) {
    const spec = providerSpecs[provider];
    app.post(`/${provider}/:sourceId`, async (c) => {
      const receivedAt = nowIso();
      const sourceId = c.req.param("sourceId");
      if (!SOURCE_ID.test(sourceId)) nothingHere(c);
      const body = await rawBody(c.req.raw, deps.maxBodyBytes);
      const context = await sources.get(sourceId);
      if (!context || !spec.sourceTypes.includes(context.type)) nothingHere(c);
      const headers = c.req.raw.headers;
      const delivery: NewDelivery = {
        provider,
        event: spec.event(headers),
        deliveryId: spec.deliveryId(headers),
        sourceId: context.sourceId,
        organizationId: context.organizationId,
        receivedAt,
      };
      const verification = spec.verify(headers, body, context.secret);
      if (!verification.ok) {
        await limitRejections(delivery.sourceId ?? provider);
        await recordRejected(db, delivery, verification.reason);
        throw errors.unauthorized(`The delivery's signature did not verify: ${verification.reason}.`);
      }
      const text = body.toString("utf8");
      if (spec.json) {
        try {
          JSON.parse(text);
        } catch {
          throw errors.invalid(
            "The delivery's body is not JSON (set the webhook's content type to application/json).",
          );
        }
      }
      return accept(c, provider, delivery, text);
    });
  }

  const accept = async (c: Context, provider: SourceProvider, delivery: NewDelivery, text: string) => {
    const { row, replay } = await recordVerified(db, delivery, {
      dedupeScope: delivery.sourceId ?? provider,
      body: text,
    });
    // A replay of a delivery whose first try was recorded but never queued is queued now.
    if (replay && row.status !== "received") return c.json({ duplicate: true, id: row.id }, 200);
    await queueProcessing(db, queue, row.id, {
      maxAttempts: deps.processAttempts,
      dedupeKey: `delivery:${row.id}`,
    });
    return c.json({ received: true, id: row.id }, 202);
  };

  // Dropbox checks an endpoint by a GET with ?challenge=, to be echoed as is.
  app.get("/dropbox/:sourceId", async (c) => {
    const sourceId = c.req.param("sourceId");
    if (!SOURCE_ID.test(sourceId)) nothingHere(c);
    const challenge = c.req.query("challenge");
    if (challenge === undefined || challenge.length === 0 || challenge.length > 1024) {
      throw errors.invalid("The challenge is missing or too long.", [
        { field: "query.challenge", reason: "must be the challenge Dropbox sent (1 to 1024 characters)" },
      ]);
    }
    const context = await sources.get(sourceId);
    if (!context || !providerSpecs.dropbox.sourceTypes.includes(context.type)) nothingHere(c);
    return c.body(challenge, 200, {
      "content-type": "text/plain; charset=utf-8",
      "x-content-type-options": "nosniff",
    });
  });

  // ---- Stripe: one endpoint per deployment, verified with the Stripe SDK, handed to billing.
  app.post("/stripe", async (c) => {
    const receivedAt = nowIso();
    if (!deps.stripeWebhookSecret) {
      throw errors.unavailable("Stripe webhooks are not configured (set STRIPE_WEBHOOK_SECRET).");
    }
    const body = await rawBody(c.req.raw, deps.maxBodyBytes);
    const header = c.req.header("stripe-signature");
    const delivery: NewDelivery = {
      provider: "stripe",
      event: "unknown",
      deliveryId: undefined,
      sourceId: null,
      organizationId: null,
      receivedAt,
    };
    let event: Stripe.Event;
    try {
      if (!header) throw new Error("missing Stripe-Signature header");
      // Default tolerance: 300 s between the signed timestamp and now.
      event = Stripe.webhooks.constructEvent(body, header, deps.stripeWebhookSecret);
    } catch (err) {
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      await limitRejections("stripe");
      await recordRejected(db, delivery, reason);
      throw errors.unauthorized(`The delivery's signature did not verify: ${reason}`);
    }
    const { row, replay } = await recordVerified(
      db,
      { ...delivery, event: event.type, deliveryId: event.id },
      { dedupeScope: "stripe", body: body.toString("utf8") },
    );
    if (replay && row.status !== "received") return c.json({ duplicate: true, id: row.id }, 200);
    await queue.enqueue(
      STRIPE_EVENTS_QUEUE,
      { deliveryId: row.id, eventId: event.id, type: event.type, livemode: event.livemode, event },
      { dedupeKey: `stripe:${event.id}`, maxAttempts: 10 },
    );
    await finish(db, row, "processed", `handed to the billing service (queue ${STRIPE_EVENTS_QUEUE})`, {
      type: event.type,
      livemode: event.livemode,
    });
    return c.json({ received: true, id: row.id }, 200);
  });

  // ---- the delivery log, for organization admins
  const admin = new Hono<AuthEnv>();
  admin.use("*", authenticate({ verifier: deps.verifier }), requireScope("admin"));
  admin.get("/", queryParams(DeliveriesQuery), async (c) => {
    const orgId = callerOrganization(c);
    const q = c.req.valid("query");
    let query = db.selectFrom("webhook_deliveries").selectAll().where("organization_id", "=", orgId);
    if (q.sourceId) query = query.where("source_id", "=", q.sourceId);
    if (q.status) query = query.where("status", "=", q.status);
    if (q.cursor) {
      const { receivedAt, id } = decodeCursor(q.cursor);
      query = query.where((eb) =>
        eb.or([
          eb("received_at", "<", receivedAt),
          eb.and([eb("received_at", "=", receivedAt), eb("id", "<", id)]),
        ]),
      );
    }
    const rows = await query.orderBy("received_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
    const last = rows[rows.length - 1];
    return c.json({
      deliveries: rows.map((r) => publicDelivery(r)),
      ...(rows.length === q.limit && last ? { next: encodeCursor(last.received_at, last.id) } : {}),
    });
  });
  const ownDelivery = async (orgId: string, id: string) => {
    const row = await db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("id", "=", id)
      .where("organization_id", "=", orgId)
      .executeTakeFirst();
    if (!row) throw errors.notFound(`Delivery ${id}`);
    return row;
  };
  admin.get("/:id", pathParams(DeliveryParams), async (c) => {
    const row = await ownDelivery(callerOrganization(c), c.req.valid("param").id);
    return c.json({ delivery: publicDelivery(row, true) });
  });
  admin.post("/:id/redeliver", pathParams(DeliveryParams), async (c) => {
    const row = await ownDelivery(callerOrganization(c), c.req.valid("param").id);
    if (row.verified !== 1 || row.status !== "failed" || row.body === null) {
      throw errors.conflict(
        `Only a verified delivery whose processing failed can be redelivered; this one is ${row.verified === 1 ? row.status : "unverified"}.`,
      );
    }
    await queueProcessing(db, queue, row.id, {
      maxAttempts: deps.processAttempts,
      dedupeKey: `delivery:${row.id}:${row.attempts}`,
      message: "redelivered",
    });
    return c.json({ delivery: publicDelivery(await ownDelivery(row.organization_id!, row.id), true) }, 202);
  });
  app.route("/deliveries", admin);
  return app;
}
