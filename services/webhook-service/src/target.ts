import { masterSecretProblems } from "@conhub/config";
import {
  createAuthVerifier,
  createTargetApp,
  defineTarget,
  loadServiceMasterSecret,
  withServiceToken,
} from "@conhub/middleware";
import type { Kysely } from "kysely";
import { type WebhookConfig, webhookConfigShape } from "./config.js";
import type { WebhookInboundDatabase } from "./db/schema.js";
import { INBOUND_QUEUE, type InboundJobPayload, pruneDeliveries } from "./inbound/deliveries.js";
import { inboundRoutes } from "./inbound/routes.js";
import { sourceDirectory } from "./inbound/sources.js";
import { inboundHandler } from "./inbound/worker.js";
import { inboundMigrations } from "./migrations/inbound.js";
import {
  loadOutboundSecretBox,
  mountOutbound,
  outboundMigrations,
  outboundSettings,
  startOutbound,
} from "./outbound/index.js";

/**
 * The webhook-service target: verified inbound provider webhooks (GitHub,
 * GitLab, Bitbucket, Dropbox, Google Drive, Stripe) recorded in a delivery
 * log and processed on the durable queue — a push to a source's tracked
 * branch becomes an incremental sync of the changed paths. Routes under
 * `/api/webhooks`.
 */
export const webhookServiceTarget = defineTarget({
  name: "webhook-service",
  configShape: webhookConfigShape,
  capabilities: {
    summary:
      "Verified inbound webhooks: GitHub (X-Hub-Signature-256), GitLab (X-Gitlab-Token), Bitbucket Cloud (X-Hub-Signature) pushes to a git source's tracked branch queue an incremental sync of the changed paths; Dropbox (challenge echo, X-Dropbox-Signature) and Google Drive (channel token) notifications are verified and recorded; Stripe events (Stripe-Signature, via the Stripe SDK) are handed to billing on the durable queue. Raw body verified before parsing, constant-time comparisons, replays recognised by delivery id, answered only once durably queued. A delivery log per organization with redelivery of failed processing. Outbound webhooks: organizations subscribe URLs to source.created, source.deleted, sync.completed, sync.failed and index.updated; deliveries signed in the Standard Webhooks format, retried with backoff on the durable queue, endpoints disabled after repeated failure, private addresses refused.",
    available: [
      "POST /api/webhooks/{github|gitlab|bitbucket|dropbox|gdrive}/:sourceId",
      "GET /api/webhooks/dropbox/:sourceId?challenge=",
      "POST /api/webhooks/stripe",
      "GET /api/webhooks/deliveries, GET /api/webhooks/deliveries/:id",
      "POST /api/webhooks/deliveries/:id/redeliver",
      "POST/GET /api/webhooks/endpoints, GET/PATCH/DELETE /api/webhooks/endpoints/:id (outbound webhooks)",
      "POST /api/webhooks/endpoints/:id/rotate-secret, POST /api/webhooks/endpoints/:id/test",
      "GET /api/webhooks/endpoints/:id/attempts",
      "GET /health, /ready, /info, /metrics",
    ],
    planned: [
      "Dropbox and Google Drive notifications trigger cursor-based syncs once those connectors exist",
    ],
    issue: 7,
  },
  uses: ["relational", "queue", "cache", "bus", "rateLimiter"],
  migrations: { ...inboundMigrations, ...outboundMigrations },
  validateConfig: masterSecretProblems,
  async init(ctx) {
    const config = ctx.config as WebhookConfig;
    // Provider deliveries have their own body limit (GitHub sends up to 25 MB); other routes keep HTTP_BODY_LIMIT_BYTES.
    const app = await createTargetApp(ctx, this, {
      bodyLimits: [
        {
          method: "POST",
          path: /^\/api\/webhooks\/(github|gitlab|bitbucket|dropbox|gdrive)\/[^/]+$|^\/api\/webhooks\/stripe$/,
          bytes: config.WEBHOOK_MAX_BODY_BYTES,
        },
      ],
    });
    const store = await ctx.storage.relational();
    const db = store.db as Kysely<WebhookInboundDatabase>;
    const queue = await ctx.storage.queue();
    const serviceSecret = await loadServiceMasterSecret(config.JWT_SECRET, config.CONHUB_DATA_DIR);
    const sources = sourceDirectory(
      withServiceToken(ctx.services["data-service"], serviceSecret, "webhook-service", "data-service"),
      config.WEBHOOK_SOURCE_CACHE_MS,
    );
    const verifier = createAuthVerifier({
      fetch: ctx.services["auth-service"],
      cache: await ctx.storage.cache(),
    });
    app.route(
      "/api/webhooks",
      inboundRoutes({
        db,
        queue,
        sources,
        verifier,
        logger: ctx.logger,
        maxBodyBytes: config.WEBHOOK_MAX_BODY_BYTES,
        processAttempts: config.WEBHOOK_PROCESS_ATTEMPTS,
        stripeWebhookSecret: config.STRIPE_WEBHOOK_SECRET || undefined,
        rejections: { limiter: await ctx.storage.rateLimiter(), limit: 60, windowMs: 10 * 60_000 },
      }),
    );
    // Outbound webhooks: /api/webhooks/endpoints, the conhub.events consumer and the delivery workers.
    const outboundDeps = {
      db: store.db,
      queue,
      bus: await ctx.storage.bus(),
      box: await loadOutboundSecretBox(config.JWT_SECRET, config.CONHUB_DATA_DIR),
      verifier,
      logger: ctx.logger,
      settings: outboundSettings(config),
    };
    mountOutbound(app, outboundDeps);
    const outbound = await startOutbound(outboundDeps);
    const worker = queue.work<InboundJobPayload>(
      INBOUND_QUEUE,
      inboundHandler({ db, sources, logger: ctx.logger }),
      {
        concurrency: 2,
        leaseMs: 60_000,
      },
    );
    const prune = () =>
      pruneDeliveries(db, config.WEBHOOK_RETENTION_DAYS).catch((err: unknown) =>
        ctx.logger.warn({ err }, "pruning old webhook deliveries failed"),
      );
    void prune();
    const pruner = setInterval(prune, 3_600_000);
    pruner.unref();
    return {
      fetch: app.fetch,
      async stop() {
        clearInterval(pruner);
        await outbound.stop(5000);
        await worker.stop(5000);
      },
    };
  },
});
