import { randomBytes } from "node:crypto";
import { CONHUB_EVENTS_TOPIC, type ConhubEvent, type ConhubEventType } from "@conhub/models";
import type { EventBus } from "@conhub/storage";
import type { Logger } from "@conhub/utils";

/**
 * Platform events the data service publishes on the event bus (topic
 * `conhub.events`), for outbound webhooks: `source.created`,
 * `source.deleted`, `sync.completed`, `sync.failed`, `index.updated`.
 * Publishing never fails the caller: a sync or a source change goes through
 * even when the bus is down (the event is then lost, and the log says so).
 */
export interface EventPublisher {
  publish(type: ConhubEventType, organizationId: string, data: Record<string, unknown>): Promise<void>;
}

const PUBLISH_TIMEOUT_MS = 5000;

export function busPublisher(
  bus: () => Promise<EventBus>,
  logger: Logger,
  timeoutMs = PUBLISH_TIMEOUT_MS,
): EventPublisher {
  return {
    async publish(type, organizationId, data) {
      const event: ConhubEvent = {
        id: `evt_${randomBytes(12).toString("hex")}`,
        type,
        organizationId,
        occurredAt: new Date().toISOString(),
        data,
      };
      let timer: NodeJS.Timeout | undefined;
      try {
        // A bus that hangs (its backend unreachable) must not hold a sync up either.
        await Promise.race([
          bus().then((b) => b.publish(CONHUB_EVENTS_TOPIC, event)),
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`the event bus did not answer in ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } catch (err) {
        logger.warn(
          { err, eventType: type, eventId: event.id, organizationId },
          "publishing a platform event failed",
        );
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
