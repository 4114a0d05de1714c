import { CONHUB_EVENTS_TOPIC, ConhubEvent } from "@conhub/models";
import type { EventBus, Subscription } from "@conhub/storage";
import type { DeliveryDeps } from "./delivery.js";
import { fanOut } from "./delivery.js";

/** The durable consumer group of the outbound part on `conhub.events`. */
export const OUTBOUND_GROUP = "webhook-outbound";

/**
 * Each platform event becomes one delivery per enabled endpoint of its
 * organization subscribed to its type. Events nobody subscribed to are not
 * stored. The bus delivers at least once; `fanOut` makes a repeat harmless.
 */
export function subscribeEvents(
  deps: Pick<DeliveryDeps, "db" | "queue" | "logger">,
  bus: EventBus,
): Promise<Subscription> {
  const log = deps.logger.child({ component: "outbound-webhooks" });
  return bus.subscribe(CONHUB_EVENTS_TOPIC, OUTBOUND_GROUP, async (event) => {
    const parsed = ConhubEvent.safeParse(event.payload);
    if (!parsed.success) {
      log.warn(
        { busEventId: event.id, issues: parsed.error.issues.slice(0, 5) },
        "ignored a malformed platform event",
      );
      return;
    }
    const e = parsed.data;
    const endpoints = await deps.db
      .selectFrom("outbound_endpoints")
      .select(["id", "events"])
      .where("organization_id", "=", e.organizationId)
      .where("enabled", "=", 1)
      .execute();
    const matching = endpoints
      .filter((ep) => (JSON.parse(ep.events) as string[]).includes(e.type))
      .map((ep) => ep.id);
    if (matching.length === 0) return;
    const body = JSON.stringify({ type: e.type, timestamp: e.occurredAt, data: e.data });
    await fanOut(deps, { id: e.id, organizationId: e.organizationId, type: e.type, body }, matching);
  });
}
