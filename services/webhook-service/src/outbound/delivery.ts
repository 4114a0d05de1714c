import { randomBytes } from "node:crypto";
import type { JobHandler, JobQueue } from "@conhub/storage";
import { type Logger, type SecretBox, SecretBoxError } from "@conhub/utils";
import { OutboundNetworkError, type SafeFetch, type SafeResponse, safeFetch } from "@conhub/utils/net";
import type { Kysely } from "kysely";
import { Webhook } from "standardwebhooks";
import type { OutboundSettings } from "./config.js";
import type { OutboundDatabase, OutboundEndpointsTable } from "./schema.js";
import { endpointSecretContext } from "./secrets.js";

/**
 * Sending: one job per attempt on the durable queue. A job makes one signed
 * POST, records the attempt, and on failure queues the next try after the
 * retry schedule's wait (with jitter). Deliveries that failed every attempt
 * count against the endpoint, which is disabled after too many of them in a
 * row, or after failing for too long.
 */

export const OUTBOUND_QUEUE = "webhook.outbound";

export interface OutboundJob {
  deliveryId: string;
  /** The attempt this job makes (1-based); a job whose attempt was already made does nothing. */
  attempt: number;
}

export interface DeliveryDeps {
  db: Kysely<OutboundDatabase>;
  queue: JobQueue;
  box: SecretBox;
  logger: Logger;
  settings: OutboundSettings;
  /** Defaults to the shared safe fetch (checked and pinned addresses, redirects not followed). */
  fetch?: SafeFetch;
}

export interface OutboundMessage {
  id: string;
  organizationId: string;
  type: string;
  /** The exact JSON body: `{"type","timestamp","data"}`. */
  body: string;
}

/** The receiver's answer kept on an attempt (the start of it). */
const RESPONSE_KEPT_BYTES = 1024;
/** Read from the receiver at most; the rest is dropped unread. */
const RESPONSE_READ_BYTES = 64 * 1024;

export const nowIso = () => new Date().toISOString();

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}

/** The wait before the try after `attempt` failed: the schedule's entry with ±10% jitter, or undefined after the last. */
export function retryDelayMs(
  scheduleMs: readonly number[],
  attempt: number,
  random = Math.random,
): number | undefined {
  const base = scheduleMs[attempt - 1];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (0.9 + 0.2 * random())));
}

function enqueueAttempt(queue: JobQueue, deliveryId: string, attempt: number, delayMs = 0) {
  return queue.enqueue<OutboundJob>(
    OUTBOUND_QUEUE,
    { deliveryId, attempt },
    { delayMs, dedupeKey: `outbound:${deliveryId}:${attempt}`, maxAttempts: 5 },
  );
}

/**
 * Records a message and one delivery per endpoint, and queues each first
 * attempt. Safe to repeat for the same message (an event delivered twice by
 * the bus): a message and endpoint pair gets one delivery.
 */
export async function fanOut(
  deps: Pick<DeliveryDeps, "db" | "queue">,
  message: OutboundMessage,
  endpointIds: readonly string[],
): Promise<string[]> {
  const { db } = deps;
  const now = nowIso();
  await db
    .insertInto("outbound_messages")
    .values({
      id: message.id,
      organization_id: message.organizationId,
      type: message.type,
      body: message.body,
      created_at: now,
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  const ids: string[] = [];
  for (const endpointId of endpointIds) {
    await db
      .insertInto("outbound_deliveries")
      .values({
        id: newId("dlv"),
        message_id: message.id,
        endpoint_id: endpointId,
        organization_id: message.organizationId,
        state: "pending",
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.columns(["message_id", "endpoint_id"]).doNothing())
      .execute();
    const delivery = await db
      .selectFrom("outbound_deliveries")
      .select(["id", "state", "attempts"])
      .where("message_id", "=", message.id)
      .where("endpoint_id", "=", endpointId)
      .executeTakeFirstOrThrow();
    if (delivery.state === "pending" && delivery.attempts === 0)
      await enqueueAttempt(deps.queue, delivery.id, 1);
    ids.push(delivery.id);
  }
  return ids;
}

interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  response: string | null;
  durationMs: number;
}

/** The secrets a delivery is signed with: the current one, and the one before a rotation while it is still valid. */
function signatures(box: SecretBox, endpoint: OutboundEndpointsTable, now: Date): string[] {
  const context = endpointSecretContext(endpoint.id);
  const secrets = [box.open(endpoint.secret, context)];
  if (
    endpoint.previous_secret &&
    endpoint.previous_secret_expires_at &&
    Date.parse(endpoint.previous_secret_expires_at) > now.getTime()
  ) {
    secrets.push(box.open(endpoint.previous_secret, context));
  }
  return secrets;
}

/**
 * One signed POST (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature` — space-separated `v1,…` entries, one per valid secret).
 */
async function send(
  deps: DeliveryDeps,
  endpoint: OutboundEndpointsTable,
  message: { id: string; body: string },
  signal: AbortSignal,
): Promise<AttemptOutcome> {
  const started = performance.now();
  const timestamp = new Date();
  let signature: string;
  try {
    signature = signatures(deps.box, endpoint, timestamp)
      .map((secret) => new Webhook(secret).sign(message.id, timestamp, message.body))
      .join(" ");
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    // Nothing is sent unsigned: the attempt fails and says what to do.
    return {
      ok: false,
      statusCode: null,
      error: `The endpoint's signing secret cannot be opened (${err.message}): rotate the secret (POST …/rotate-secret).`,
      response: null,
      durationMs: 0,
    };
  }
  let res: SafeResponse;
  try {
    res = await (deps.fetch ?? safeFetch)(endpoint.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "ConHub-Webhooks/0.1",
        "webhook-id": message.id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: message.body,
      policy: deps.settings.policy,
      followRedirects: false,
      timeoutMs: deps.settings.timeoutMs,
      maxBytes: RESPONSE_READ_BYTES,
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw err; // The worker is stopping: the job goes back to the queue.
    const reason =
      err instanceof OutboundNetworkError ? err.message : `The request failed: ${(err as Error).message}`;
    return {
      ok: false,
      statusCode: null,
      error: reason.slice(0, 1000),
      response: null,
      durationMs: Math.round(performance.now() - started),
    };
  }
  const durationMs = Math.round(performance.now() - started);
  const ok = res.status >= 200 && res.status < 300;
  const redirect = res.status >= 300 && res.status < 400;
  return {
    ok,
    statusCode: res.status,
    error: ok
      ? null
      : redirect
        ? `The endpoint answered ${res.status} (a redirect; redirects are not followed: use the final URL).`
        : `The endpoint answered ${res.status}; only 2xx counts as delivered.`,
    response: res.body.length > 0 ? res.body.subarray(0, RESPONSE_KEPT_BYTES).toString("utf8") : null,
    durationMs,
  };
}

/** Cancels what a disabled endpoint still had queued (in the transaction that disables it). */
export async function cancelPendingDeliveries(
  db: Kysely<OutboundDatabase>,
  endpointId: string,
  now: string,
): Promise<void> {
  await db
    .updateTable("outbound_deliveries")
    .set({ state: "cancelled", next_attempt_at: null, updated_at: now })
    .where("endpoint_id", "=", endpointId)
    .where("state", "=", "pending")
    .execute();
}

/** Disables an endpoint (once) with its reason, cancels what it still had queued, and says so in the log. */
export async function disableEndpoint(
  deps: Pick<DeliveryDeps, "db" | "logger">,
  endpoint: Pick<OutboundEndpointsTable, "id" | "organization_id" | "url">,
  reason: string,
): Promise<void> {
  const now = nowIso();
  // One transaction: nobody sees the endpoint disabled with its deliveries still pending.
  const disabled = await deps.db.transaction().execute(async (tx) => {
    const result = await tx
      .updateTable("outbound_endpoints")
      .set({ enabled: 0, disabled_at: now, disabled_reason: reason, updated_at: now })
      .where("id", "=", endpoint.id)
      .where("enabled", "=", 1)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return false;
    await cancelPendingDeliveries(tx, endpoint.id, now);
    return true;
  });
  if (!disabled) return;
  // The host only: an endpoint URL may carry a token in its path or query.
  deps.logger.warn(
    {
      audit: "webhook.endpoint.disabled",
      endpointId: endpoint.id,
      organizationId: endpoint.organization_id,
      host: new URL(endpoint.url).host,
      reason,
    },
    "outbound webhook endpoint disabled",
  );
}

function describeWait(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day${ms === 86_400_000 ? "" : "s"}`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

/** The queue handler of `webhook.outbound` jobs: one attempt of one delivery. */
export function deliveryHandler(deps: DeliveryDeps): JobHandler<OutboundJob> {
  const { db, settings } = deps;
  return async (job, ctx) => {
    const delivery = await db
      .selectFrom("outbound_deliveries")
      .selectAll()
      .where("id", "=", job.payload.deliveryId)
      .executeTakeFirst();
    if (delivery?.state !== "pending" || delivery.attempts >= job.payload.attempt) return;
    const cancel = () =>
      db
        .updateTable("outbound_deliveries")
        .set({ state: "cancelled", next_attempt_at: null, updated_at: nowIso() })
        .where("id", "=", delivery.id)
        .execute();
    const endpoint = await db
      .selectFrom("outbound_endpoints")
      .selectAll()
      .where("id", "=", delivery.endpoint_id)
      .where("organization_id", "=", delivery.organization_id)
      .executeTakeFirst();
    if (endpoint?.enabled !== 1) {
      await cancel();
      return;
    }
    const message = await db
      .selectFrom("outbound_messages")
      .select(["id", "type", "body"])
      .where("id", "=", delivery.message_id)
      .executeTakeFirst();
    if (!message) {
      await cancel();
      return;
    }
    const attempt = delivery.attempts + 1;
    const outcome = await send(deps, endpoint, message, ctx.signal);
    const now = nowIso();
    const wait = outcome.ok ? undefined : retryDelayMs(settings.retryScheduleMs, attempt);
    const nextAt = wait === undefined ? null : new Date(Date.now() + wait).toISOString();
    await db.transaction().execute(async (tx) => {
      await tx
        .insertInto("outbound_attempts")
        .values({
          id: newId("att"),
          delivery_id: delivery.id,
          endpoint_id: endpoint.id,
          organization_id: endpoint.organization_id,
          message_id: message.id,
          event_type: message.type,
          attempt,
          status: outcome.ok ? "succeeded" : "failed",
          status_code: outcome.statusCode,
          error: outcome.error,
          response: outcome.response,
          duration_ms: outcome.durationMs,
          next_retry_at: nextAt,
          created_at: now,
        })
        .execute();
      await tx
        .updateTable("outbound_deliveries")
        .set({
          state: outcome.ok ? "succeeded" : nextAt ? "pending" : "failed",
          attempts: attempt,
          next_attempt_at: nextAt,
          updated_at: now,
        })
        .where("id", "=", delivery.id)
        .execute();
      if (outcome.ok) {
        await tx
          .updateTable("outbound_endpoints")
          .set({ failed_deliveries: 0, failing_since: null, last_success_at: now })
          .where("id", "=", endpoint.id)
          .execute();
      } else {
        await tx
          .updateTable("outbound_endpoints")
          .set((eb) => ({
            failing_since: eb.fn.coalesce("failing_since", eb.val(now)),
            ...(nextAt ? {} : { failed_deliveries: eb("failed_deliveries", "+", 1) }),
          }))
          .where("id", "=", endpoint.id)
          .execute();
      }
    });
    if (outcome.ok) return;

    const after = await db
      .selectFrom("outbound_endpoints")
      .select(["failed_deliveries", "failing_since", "enabled"])
      .where("id", "=", endpoint.id)
      .executeTakeFirst();
    if (after && after.enabled === 1) {
      const failingFor = after.failing_since ? Date.now() - Date.parse(after.failing_since) : 0;
      let reason: string | undefined;
      if (after.failed_deliveries >= settings.disableAfterFailures) {
        reason = `${after.failed_deliveries} deliveries in a row failed every attempt (the last: ${outcome.error}). Fix the endpoint, then re-enable it with PATCH {"enabled": true}.`;
      } else if (failingFor >= settings.disableAfterMs) {
        reason = `Every delivery has failed for more than ${describeWait(settings.disableAfterMs)} (the last: ${outcome.error}). Fix the endpoint, then re-enable it with PATCH {"enabled": true}.`;
      }
      if (reason) {
        await disableEndpoint(deps, endpoint, reason);
        return;
      }
    }
    if (nextAt && wait !== undefined) await enqueueAttempt(deps.queue, delivery.id, attempt + 1, wait);
  };
}

/**
 * Queues again the due attempts whose job was lost (a crash between
 * recording an attempt and queueing the next); the dedupe key and the
 * attempt number make a duplicate harmless.
 */
export async function requeueStale(
  deps: Pick<DeliveryDeps, "db" | "queue">,
  staleMs = 120_000,
): Promise<number> {
  const cutoff = new Date(Date.now() - staleMs).toISOString();
  const stale = await deps.db
    .selectFrom("outbound_deliveries")
    .select(["id", "attempts"])
    .where("state", "=", "pending")
    .where("next_attempt_at", "<", cutoff)
    .limit(500)
    .execute();
  for (const d of stale) await enqueueAttempt(deps.queue, d.id, d.attempts + 1);
  return stale.length;
}

/** Forgets finished deliveries, their attempts and messages after `days`. */
export async function pruneOutbound(deps: Pick<DeliveryDeps, "db">, days: number): Promise<void> {
  const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
  const { db } = deps;
  await db.deleteFrom("outbound_attempts").where("created_at", "<", cutoff).execute();
  await db
    .deleteFrom("outbound_deliveries")
    .where("updated_at", "<", cutoff)
    .where("state", "!=", "pending")
    .execute();
  await db
    .deleteFrom("outbound_messages")
    .where("created_at", "<", cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("outbound_deliveries")
            .select("outbound_deliveries.id")
            .whereRef("outbound_deliveries.message_id", "=", "outbound_messages.id"),
        ),
      ),
    )
    .execute();
}
