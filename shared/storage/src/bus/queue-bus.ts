import { randomUUID } from "node:crypto";
import type { Logger } from "@conhub/utils";
import { assertTopicAndGroup } from "../internal/names.js";
import type { BusEvent, EventBus, JobQueue, Subscription, Worker, WorkerOptions } from "../ports.js";

export interface QueueBusOptions {
  /** Tries per event and group before it is marked failed in that group's queue (default 5). */
  maxAttempts?: number;
  /** Worker settings of every subscription (lease, backoff, concurrency). */
  worker?: WorkerOptions;
  logger?: Logger;
}

/** What a bus job carries: the event, once per group. */
interface StoredEvent<T> {
  id: string;
  topic: string;
  payload: T;
  publishedAt: string;
}

/** The queue that holds a group's events: `bus.<topic>.<group>` (groups have no dots, so it is unambiguous). */
export function busQueueName(topic: string, group: string): string {
  return `bus.${topic}.${group}`;
}

/**
 * Durable publish/subscribe on top of any `JobQueue`: each subscriber group
 * has its own queue, and `publish` enqueues the event once per group
 * registered for the topic (the registry lives in the queue's backend). So
 * each group gets every event, at least once, even if it was down when the
 * event was published; members of a group are workers on the same queue and
 * share the events. The same event id reaches every group: handlers can use
 * it to make redelivery harmless.
 */
export function createQueueBus(queue: JobQueue, options: QueueBusOptions = {}): EventBus {
  const subscriptions = new Set<Subscription>();
  const log = options.logger?.child({ component: "event-bus" });
  let closed = false;

  return {
    async publish<T>(topic: string, payload: T) {
      if (closed) throw new Error("The event bus is closed");
      assertTopicAndGroup(topic);
      const event: StoredEvent<T> = {
        id: randomUUID(),
        topic,
        payload,
        publishedAt: new Date().toISOString(),
      };
      const groups = await queue.busGroups.groups(topic);
      await Promise.all(
        groups.map((group) =>
          queue.enqueue(busQueueName(topic, group), event, {
            ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
          }),
        ),
      );
      if (groups.length === 0) log?.debug({ topic }, "published an event no group subscribes to");
      return event.id;
    },

    async subscribe<T>(topic: string, group: string, handler: (event: BusEvent<T>) => Promise<void>) {
      if (closed) throw new Error("The event bus is closed");
      assertTopicAndGroup(topic, group);
      await queue.busGroups.register(topic, group);
      const worker: Worker = queue.work<StoredEvent<T>>(
        busQueueName(topic, group),
        async (job) => {
          const stored = job.payload;
          await handler({
            id: stored.id,
            topic: stored.topic,
            payload: stored.payload,
            publishedAt: new Date(stored.publishedAt),
          });
        },
        options.worker,
      );
      const subscription: Subscription = {
        async stop(graceMs?: number) {
          subscriptions.delete(subscription);
          await worker.stop(graceMs);
        },
      };
      subscriptions.add(subscription);
      return subscription;
    },

    health: queue.health,

    async close() {
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.stop()));
    },
  };
}
