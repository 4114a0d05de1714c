import { randomBytes } from "node:crypto";
import type { JobQueue } from "@conhub/storage";
import type { Kysely, Selectable } from "kysely";
import type { DeliveriesTable, WebhookInboundDatabase } from "../db/schema.js";

/** The durable queue verified deliveries are processed on (payload: `InboundJobPayload`). */
export const INBOUND_QUEUE = "webhooks.inbound";
/** Verified Stripe events, for the billing service. */
export const STRIPE_EVENTS_QUEUE = "billing.stripe-events";

export interface InboundJobPayload {
  deliveryId: string;
}

export type DeliveryStatus = "received" | "queued" | "processed" | "ignored" | "failed" | "rejected";

export type DeliveriesDb = Kysely<WebhookInboundDatabase>;

export const newDeliveryId = () => `whd_${randomBytes(12).toString("hex")}`;
export const nowIso = () => new Date().toISOString();

export interface NewDelivery {
  provider: string;
  event: string;
  deliveryId: string | undefined;
  sourceId: string | null;
  organizationId: string | null;
  receivedAt: string;
}

/** Logs a delivery whose signature did not verify: no body, no dedupe key, never processed. */
export async function recordRejected(db: DeliveriesDb, d: NewDelivery, reason: string): Promise<string> {
  const id = newDeliveryId();
  await db
    .insertInto("webhook_deliveries")
    .values({
      id,
      provider: d.provider,
      event: d.event,
      delivery_id: d.deliveryId ?? null,
      dedupe_key: null,
      source_id: d.sourceId,
      organization_id: d.organizationId,
      received_at: d.receivedAt,
      verified: 0,
      verify_reason: reason,
      status: "rejected",
      status_message: "signature did not verify",
      summary: null,
      body: null,
      attempts: 0,
      latency_ms: null,
      processed_at: null,
    })
    .execute();
  return id;
}

/**
 * Records a verified delivery (status `received`). With a provider delivery
 * id, a second delivery with the same id in the retention window is a
 * replay: the first one's row is returned and nothing is inserted.
 */
export async function recordVerified(
  db: DeliveriesDb,
  d: NewDelivery,
  extra: { dedupeScope: string; body: string; status?: DeliveryStatus; message?: string; summary?: unknown },
): Promise<{ row: Selectable<DeliveriesTable>; replay: boolean }> {
  const id = newDeliveryId();
  const dedupeKey = d.deliveryId ? `${d.provider}:${extra.dedupeScope}:${d.deliveryId}` : null;
  const result = await db
    .insertInto("webhook_deliveries")
    .values({
      id,
      provider: d.provider,
      event: d.event,
      delivery_id: d.deliveryId ?? null,
      dedupe_key: dedupeKey,
      source_id: d.sourceId,
      organization_id: d.organizationId,
      received_at: d.receivedAt,
      verified: 1,
      verify_reason: null,
      status: extra.status ?? "received",
      status_message: extra.message ?? null,
      summary: extra.summary === undefined ? null : JSON.stringify(extra.summary),
      body: extra.body,
      attempts: 0,
      latency_ms: null,
      processed_at: null,
    })
    .onConflict((oc) => oc.column("dedupe_key").doNothing())
    .executeTakeFirst();
  const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  const row = inserted
    ? await db.selectFrom("webhook_deliveries").selectAll().where("id", "=", id).executeTakeFirstOrThrow()
    : await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("dedupe_key", "=", dedupeKey)
        .executeTakeFirstOrThrow();
  return { row, replay: !inserted };
}

/** Queues processing of a recorded delivery, then marks it queued (in that order: a crash between leaves it `received`, and the provider's retry queues it). */
export async function queueProcessing(
  db: DeliveriesDb,
  queue: JobQueue,
  id: string,
  options: { maxAttempts: number; dedupeKey: string; message?: string },
): Promise<void> {
  const payload: InboundJobPayload = { deliveryId: id };
  await queue.enqueue(INBOUND_QUEUE, payload, {
    maxAttempts: options.maxAttempts,
    dedupeKey: options.dedupeKey,
  });
  await db
    .updateTable("webhook_deliveries")
    .set({ status: "queued", status_message: options.message ?? null })
    .where("id", "=", id)
    .where("status", "in", ["received", "failed"])
    .execute();
}

/** Records the outcome of processing (or of a handoff), with the latency from receipt. */
export async function finish(
  db: DeliveriesDb,
  row: Pick<Selectable<DeliveriesTable>, "id" | "received_at">,
  status: "processed" | "ignored" | "failed",
  message: string,
  summary?: unknown,
): Promise<void> {
  const now = new Date();
  await db
    .updateTable("webhook_deliveries")
    .set({
      status,
      status_message: message.slice(0, 2000),
      processed_at: now.toISOString(),
      latency_ms: Math.max(0, now.getTime() - Date.parse(row.received_at)),
      ...(summary === undefined ? {} : { summary: JSON.stringify(summary) }),
    })
    .where("id", "=", row.id)
    .execute();
}

/** Deletes deliveries received before the retention window (their ids may then be replayed). */
export async function pruneDeliveries(db: DeliveriesDb, retentionDays: number): Promise<number> {
  const before = new Date(Date.now() - retentionDays * 86_400_000).toISOString();
  const result = await db
    .deleteFrom("webhook_deliveries")
    .where("received_at", "<", before)
    .executeTakeFirst();
  return Number(result.numDeletedRows ?? 0n);
}

/** A delivery as the API shows it (never its body). */
export function publicDelivery(row: Selectable<DeliveriesTable>, detail = false) {
  return {
    id: row.id,
    provider: row.provider,
    event: row.event,
    deliveryId: row.delivery_id,
    sourceId: row.source_id,
    receivedAt: row.received_at,
    verified: row.verified === 1,
    verifyReason: row.verify_reason,
    status: row.status,
    statusMessage: row.status_message,
    latencyMs: row.latency_ms,
    attempts: row.attempts,
    processedAt: row.processed_at,
    ...(detail
      ? {
          summary: row.summary ? (JSON.parse(row.summary) as unknown) : null,
          bodyBytes: row.body === null ? null : Buffer.byteLength(row.body, "utf8"),
          redeliverable: row.verified === 1 && row.status === "failed" && row.body !== null,
        }
      : {}),
  };
}
