import type { AuthVerifier } from "@conhub/middleware";
import type { EventBus, JobQueue } from "@conhub/storage";
import type { Logger, SecretBox } from "@conhub/utils";
import type { Hono } from "hono";
import type { Kysely } from "kysely";
import type { OutboundSettings } from "./config.js";
import { subscribeEvents } from "./consumer.js";
import { deliveryHandler, OUTBOUND_QUEUE, pruneOutbound, requeueStale } from "./delivery.js";
import { outboundRoutes } from "./routes.js";
import type { OutboundDatabase } from "./schema.js";

export {
  type OutboundConfig,
  type OutboundSettings,
  outboundConfigShape,
  outboundSettings,
} from "./config.js";
export { OUTBOUND_GROUP } from "./consumer.js";
export { OUTBOUND_QUEUE } from "./delivery.js";
export { outboundMigrations } from "./migrations.js";
export type { OutboundDatabase } from "./schema.js";
export { loadOutboundSecretBox } from "./secrets.js";

/**
 * Outbound webhooks: organizations subscribe URLs to platform events, which
 * are delivered signed in the Standard Webhooks format, retried on the
 * durable queue and stop going to endpoints that keep failing.
 *
 * Wiring (in the target's `init`):
 *   const outbound = { db: store.db, queue, bus: await ctx.storage.bus(), verifier, logger: ctx.logger,
 *     box: await loadOutboundSecretBox(config.JWT_SECRET, config.CONHUB_DATA_DIR), settings: outboundSettings(config) };
 *   mountOutbound(app, outbound);
 *   const outboundWorkers = await startOutbound(outbound);   // and in stop(): await outboundWorkers.stop()
 */
export interface OutboundDeps {
  // biome-ignore lint/suspicious/noExplicitAny: the webhook service's store holds the inbound tables too.
  db: Kysely<any>;
  queue: JobQueue;
  bus: EventBus;
  box: SecretBox;
  verifier: AuthVerifier;
  logger: Logger;
  settings: OutboundSettings;
}

/** Finished deliveries, attempts and messages are kept this long. */
const RETENTION_DAYS = 30;

/** Serves `/api/webhooks/endpoints…` on the target's app. */
// biome-ignore lint/suspicious/noExplicitAny: any Hono app of the target (its env type is the platform's).
export function mountOutbound(app: Hono<any>, deps: OutboundDeps): void {
  app.route("/api/webhooks/endpoints", outboundRoutes({ ...deps, db: deps.db as Kysely<OutboundDatabase> }));
}

/** Starts the bus consumer, the delivery workers and the housekeeping timer; `stop` ends them. */
export async function startOutbound(deps: OutboundDeps): Promise<{ stop(graceMs?: number): Promise<void> }> {
  const d = { ...deps, db: deps.db as Kysely<OutboundDatabase> };
  const log = deps.logger.child({ component: "outbound-webhooks" });
  const worker = deps.queue.work(OUTBOUND_QUEUE, deliveryHandler(d), {
    concurrency: deps.settings.concurrency,
    // A delivery takes at most the request timeout; the lease outlives it.
    leaseMs: deps.settings.timeoutMs + 20_000,
  });
  const subscription = await subscribeEvents(d, deps.bus);
  let lastPrune = 0;
  const housekeeping = setInterval(() => {
    void requeueStale(d).catch((err: unknown) => log.warn({ err }, "requeueing stale deliveries failed"));
    if (Date.now() - lastPrune > 3_600_000) {
      lastPrune = Date.now();
      void pruneOutbound(d, RETENTION_DAYS).catch((err: unknown) =>
        log.warn({ err }, "pruning old outbound deliveries failed"),
      );
    }
  }, 30_000);
  housekeeping.unref();
  return {
    async stop(graceMs = 5000) {
      clearInterval(housekeeping);
      await subscription.stop(graceMs);
      await worker.stop(graceMs);
    },
  };
}
