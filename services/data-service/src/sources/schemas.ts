import { z } from "zod";
import { GitConfig, GitCredentials } from "../connectors/git.js";
import { LocalConfig } from "../connectors/local.js";
import { UploadConfig } from "../connectors/upload.js";
import { WebConfig } from "../connectors/web.js";

const glob = z.string().trim().min(1, "must not be empty").max(500, "must be at most 500 characters");
const globs = z.array(glob).max(200, "at most 200 patterns");

const common = {
  name: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  /** Only paths matching one of these globs are indexed (default: all). */
  include: globs.default([]),
  /** Paths matching any of these globs are not indexed. */
  exclude: globs.default([]),
  /** Minutes between scheduled incremental syncs; null or absent: on demand only. */
  scheduleMinutes: z
    .number()
    .int("must be a whole number")
    .min(5, "must be at least 5")
    .max(10_080)
    .nullable()
    .default(null),
  /** Start the first sync at once (default true). */
  sync: z.boolean().default(true),
};

export const CreateSourceBody = z.discriminatedUnion(
  "type",
  [
    z.strictObject({ type: z.literal("local"), config: LocalConfig, ...common }),
    z.strictObject({
      type: z.literal("git"),
      config: GitConfig,
      credentials: GitCredentials.optional(),
      ...common,
    }),
    z.strictObject({ type: z.literal("web"), config: WebConfig, ...common }),
    z.strictObject({ type: z.literal("upload"), config: UploadConfig.default({}), ...common }),
  ],
  { error: "must be one of local, git, web, upload" },
);
export type CreateSourceBody = z.output<typeof CreateSourceBody>;

export const PatchSourceBody = z.strictObject({
  name: common.name.optional(),
  /** Fields to change in the connector's configuration (validated against the source's type). */
  config: z.record(z.string(), z.unknown()).optional(),
  /** New credentials; null removes them. */
  credentials: z.record(z.string(), z.string()).nullable().optional(),
  include: globs.optional(),
  exclude: globs.optional(),
  scheduleMinutes: common.scheduleMinutes.optional(),
});

export const SyncBody = z
  .strictObject({
    mode: z.enum(["full", "incremental"]).default("incremental"),
    /** Only these paths changed (a webhook's push); absent: anything may have. */
    paths: z.array(z.string().min(1).max(4096)).max(10_000).optional(),
    trigger: z.enum(["manual", "webhook"]).default("manual"),
  })
  .default({ mode: "incremental", trigger: "manual" });

export const SourceParams = z.strictObject({
  id: z.string().regex(/^src_[0-9a-f]{24}$/, "must be a source id (src_…)"),
});
export const RunParams = SourceParams.extend({
  runId: z.string().regex(/^run_[0-9a-f]{24}$/, "must be a run id (run_…)"),
});

export const RunsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  before: z.string().max(40).optional(),
});

export const DocumentsQuery = z.strictObject({
  prefix: z.string().max(4096).optional(),
  after: z.string().max(4096).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const DocumentQuery = z.strictObject({ path: z.string().min(1).max(4096) });
