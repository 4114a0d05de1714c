import { variable } from "@conhub/config";
import { type NetworkPolicy, networkPolicySchema, publicOnly } from "@conhub/utils/net";
import { z } from "zod";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `5s`, `30m`, `2h`, `5d` → milliseconds; undefined when it is none of these. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const ms = Number(match[1]) * units[match[2]!]!;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

const duration = (def: string, min: number) =>
  z
    .string()
    .default(def)
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms < min) {
        ctx.addIssue({
          code: "custom",
          message: `must be a duration such as 30s, 5m, 2h or 5d (at least ${min} ms)`,
        });
        return z.NEVER;
      }
      return ms;
    });

/** The Standard Webhooks / Svix retry schedule: the waits before retries 1, 2, 3… */
export const DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,10h";

/** The outbound part of the webhook service's environment variables. */
export const outboundConfigShape = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: variable(networkPolicySchema(), {
    description:
      "Let outbound webhook endpoints be on non-public addresses (a receiver on the LAN or this machine): `true` for any, or a comma-separated list of CIDR ranges (`10.0.0.0/8,fd00::/8`); also allows `http://` endpoint URLs. Default `false`: endpoints must be `https://` on public addresses, checked when the endpoint is saved and again after DNS resolution at every delivery (the connection goes to the checked address; redirects are not followed).",
    example: "false",
    defaultLabel: "false",
  }),
  WEBHOOK_RETRY_SCHEDULE: variable(
    z
      .string()
      .default(DEFAULT_RETRY_SCHEDULE)
      .transform((v, ctx) => {
        const parts = v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
        const waits = parts.map(parseDuration);
        if (parts.length === 0 || parts.length > 20 || waits.some((w) => w === undefined || w < 100)) {
          ctx.addIssue({
            code: "custom",
            message:
              "must be 1 to 20 comma-separated durations of at least 100ms, such as 5s,5m,30m,2h,5h,10h,10h",
          });
          return z.NEVER;
        }
        return waits as number[];
      }),
    {
      description:
        "Waits before each retry of a failed outbound webhook delivery (comma-separated durations: `ms`, `s`, `m`, `h`, `d`); each wait gets ±10% jitter, and a delivery is tried once more than the schedule has entries. The default is the Standard Webhooks schedule: immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h.",
      example: DEFAULT_RETRY_SCHEDULE,
      defaultLabel: DEFAULT_RETRY_SCHEDULE,
    },
  ),
  WEBHOOK_DISABLE_AFTER_FAILURES: variable(
    z.coerce
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(1, "must be at least 1")
      .max(1000, "must be at most 1000")
      .default(5),
    {
      description:
        "An outbound webhook endpoint is disabled (with the reason shown on it) after this many deliveries in a row failed every attempt of the retry schedule.",
      example: "5",
    },
  ),
  WEBHOOK_DISABLE_AFTER: variable(duration("5d", 1000), {
    description:
      "An outbound webhook endpoint is also disabled once its deliveries have failed, without one success, for this long (a duration: `5d`, `36h`).",
    example: "5d",
    defaultLabel: "5d",
  }),
} as const;

export type OutboundConfig = z.output<z.ZodObject<typeof outboundConfigShape>>;

/** What the outbound part runs with, read from its configuration. */
export interface OutboundSettings {
  policy: NetworkPolicy;
  /** Whether `http://` endpoint URLs are accepted (only when private networks are allowed). */
  allowHttp: boolean;
  retryScheduleMs: number[];
  disableAfterFailures: number;
  disableAfterMs: number;
  /** Per delivery request. */
  timeoutMs: number;
  /** Deliveries sent at once by each process. */
  concurrency: number;
}

export function outboundSettings(config: OutboundConfig): OutboundSettings {
  return {
    policy: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    allowHttp: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS !== publicOnly,
    retryScheduleMs: config.WEBHOOK_RETRY_SCHEDULE,
    disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER,
    timeoutMs: 10_000,
    concurrency: 4,
  };
}
