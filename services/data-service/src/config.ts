import { intInRange, masterSecretEnv, variable } from "@conhub/config";
import type { PlatformConfig } from "@conhub/middleware";
import { networkPolicySchema } from "@conhub/utils/net";
import { z } from "zod";

const count = intInRange;

/** The data service's own environment variables. */
export const dataConfigShape = {
  ...masterSecretEnv,
  DATA_ALLOW_PRIVATE_NETWORKS: variable(networkPolicySchema(), {
    description:
      "Let the web crawler and git over HTTP(S) reach non-public addresses (an intranet wiki, a git server on the LAN): `true` for any, or a comma-separated list of CIDR ranges (`10.0.0.0/8,fd00::/8`). Default `false`: sources reach public addresses only, checked after DNS resolution (the connection goes to the checked address) and on every redirect. A source must also set `allowPrivateNetwork: true`.",
    example: "false",
    defaultLabel: "false",
  }),
  DATA_LOCAL_ROOTS: variable(
    z
      .string()
      .trim()
      .default("")
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    {
      description:
        "Comma-separated folders that local-folder and local git sources may be under. Empty: any folder this process can read (fine on your own machine; set it on a shared server, or every organization can index the server's files).",
      example: "/srv/repos,/home/shared/docs",
      defaultLabel: "(empty: any folder)",
    },
  ),
  DATA_SYNC_CONCURRENCY: variable(count(2, 1, 64), {
    description: "Source syncs run at once by each data-service process (the rest wait in the queue).",
    example: "2",
  }),
  DATA_UPLOAD_MAX_BYTES: variable(count(50 * 1024 * 1024, 1024, 2 * 1024 * 1024 * 1024), {
    description:
      "Most bytes of files one `POST /api/data/sources/:id/files` request may carry (bytes); larger requests get 413. This route's body limit (not HTTP_BODY_LIMIT_BYTES) is this plus 64 KiB for the form's framing.",
    example: "52428800",
  }),
  DATA_CRAWL_MAX_PAGES: variable(count(1000, 1, 1_000_000), {
    description: "Upper bound on pages a web source may set with `maxPages` (default per source: 200).",
    example: "1000",
  }),
} as const;

export type DataConfig = PlatformConfig & z.output<z.ZodObject<typeof dataConfigShape>>;
