import { intInRange, masterSecretEnv, variable } from "@conhub/config";
import type { PlatformConfig } from "@conhub/middleware";
import { z } from "zod";
import { outboundConfigShape } from "./outbound/config.js";

const count = intInRange;

/** The webhook service's own environment variables (inbound part, then the outbound part's). */
export const webhookConfigShape = {
  ...masterSecretEnv,
  STRIPE_WEBHOOK_SECRET: variable(z.string().trim().optional(), {
    description:
      "The signing secret of the Stripe webhook endpoint (`whsec_…`, from the Stripe dashboard) for `POST /api/webhooks/stripe`. Unset: that route answers 503 (Stripe webhooks are not configured).",
    secret: true,
    example: "whsec_…",
  }),
  WEBHOOK_MAX_BODY_BYTES: variable(count(5 * 1_048_576, 1024, 26_214_400), {
    description:
      "Largest inbound provider delivery accepted (bytes) on `POST /api/webhooks/{provider}/…` and `/api/webhooks/stripe` (instead of HTTP_BODY_LIMIT_BYTES); larger deliveries get 413. GitHub caps its payloads at 25 MB; raise this (and nginx's `client_max_body_size` for `/api/webhooks/`) for very large pushes.",
    example: "5242880",
  }),
  WEBHOOK_RETENTION_DAYS: variable(count(14, 1, 3650), {
    description:
      "Days inbound deliveries stay in the delivery log; a replayed delivery id is recognised (and ignored) for as long.",
    example: "14",
  }),
  WEBHOOK_SOURCE_CACHE_MS: variable(count(5000, 0, 600_000), {
    description:
      "How long a source's webhook secret and branch, read from the data service, are cached (ms). After a source's secret changes, deliveries signed with the old one may verify for this long.",
    example: "5000",
  }),
  WEBHOOK_PROCESS_ATTEMPTS: variable(count(5, 1, 20), {
    description:
      "Tries to process a verified delivery (ask the data service for the sync) before it is marked failed; retries back off 1 s, 2 s, 4 s…",
    example: "5",
  }),
  ...outboundConfigShape,
};

export type WebhookConfig = PlatformConfig & z.output<z.ZodObject<typeof webhookConfigShape>>;
