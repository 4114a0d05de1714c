import { z } from "zod";

/**
 * The platform events organizations can subscribe outbound webhooks to. The
 * data service publishes them on the event bus (topic `conhub.events`); the
 * webhook service delivers them to the organization's endpoints.
 */
export const CONHUB_EVENTS_TOPIC = "conhub.events";

export const conhubEventTypes = [
  "source.created",
  "source.deleted",
  "sync.completed",
  "sync.failed",
  "index.updated",
] as const;
export type ConhubEventType = (typeof conhubEventTypes)[number];

/** Every type an endpoint may subscribe to: the platform events and the `ping` its test button sends. */
export const webhookEventTypes = [...conhubEventTypes, "ping"] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** An event on `conhub.events`. `id` is unique per event (`evt_…`) and becomes the delivery's `webhook-id`. */
export const ConhubEvent = z.object({
  id: z.string().min(1).max(100),
  type: z.enum(conhubEventTypes),
  organizationId: z.string().min(1),
  /** ISO 8601. */
  occurredAt: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});
export type ConhubEvent = z.infer<typeof ConhubEvent>;
