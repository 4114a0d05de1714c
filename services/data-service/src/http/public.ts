import type { Principal } from "@conhub/middleware";
import type { SecretBox } from "@conhub/utils";
import type { Selectable } from "kysely";
import type { SourcesTable, SyncRunsTable } from "../db/schema.js";
import type { RunStats, SyncRequest } from "../sync/model.js";

/** A run as the API shows it. */
export function publicRun(run: Selectable<SyncRunsTable>) {
  const stats = JSON.parse(run.stats) as RunStats & { paths?: string[] };
  const { paths, ...counters } = stats;
  return {
    id: run.id,
    sourceId: run.source_id,
    trigger: run.trigger,
    mode: run.mode,
    status: run.status,
    phase: run.phase,
    progress: counters,
    ...(paths ? { paths: paths.length } : {}),
    error: run.error,
    cursorFrom: run.cursor_from,
    cursorTo: run.cursor_to,
    resumes: Math.max(0, run.starts - 1),
    startedAt: run.started_at,
    updatedAt: run.updated_at,
    finishedAt: run.finished_at,
  };
}

/**
 * A source as the API shows it: never its credentials (only whether there
 * are some); the webhook secret only to callers with the admin scope.
 */
export function publicSource(
  source: Selectable<SourcesTable>,
  extra: {
    box: SecretBox;
    principal: Principal;
    lastRun?: Selectable<SyncRunsTable> | undefined;
    currentRun?: Selectable<SyncRunsTable> | undefined;
  },
) {
  const admin = extra.principal.scopes.includes("admin");
  const pending = source.pending_request ? (JSON.parse(source.pending_request) as SyncRequest) : null;
  return {
    id: source.id,
    type: source.type,
    name: source.name,
    config: JSON.parse(source.config) as Record<string, unknown>,
    hasCredentials: source.credentials !== null,
    include: JSON.parse(source.include) as string[],
    exclude: JSON.parse(source.exclude) as string[],
    scheduleMinutes: source.schedule_minutes,
    nextSyncAt: source.next_sync_at,
    status: source.status,
    statusMessage: source.status_message,
    cursor: source.cursor,
    pendingSync: pending
      ? { mode: pending.mode, trigger: pending.trigger, requestedAt: pending.requestedAt }
      : null,
    currentRun: extra.currentRun ? publicRun(extra.currentRun) : null,
    lastRun: extra.lastRun ? publicRun(extra.lastRun) : null,
    webhook: {
      /** Where providers deliver pushes (the webhook service, behind the gateway). */
      path: `/api/webhooks/{provider}/${source.id}`,
      ...(admin ? { secret: extra.box.open(source.webhook_secret, `source:${source.id}:webhook`) } : {}),
      setup: webhookSetup(source.type, source.id),
    },
    createdAt: source.created_at,
    updatedAt: source.updated_at,
  };
}

/**
 * How to point a provider at this source's webhook, one entry per provider
 * that can notify a source of this type (git: GitHub, GitLab, Bitbucket).
 * Paths are relative to ConHub's public URL (the gateway).
 */
export function webhookSetup(type: string, sourceId: string) {
  if (type !== "git") return [];
  return [
    {
      provider: "github",
      path: `/api/webhooks/github/${sourceId}`,
      steps:
        "Repository → Settings → Webhooks → Add webhook. Payload URL: ConHub's public URL followed by the path; " +
        "Content type: application/json; Secret: webhook.secret; events: Just the push event.",
    },
    {
      provider: "gitlab",
      path: `/api/webhooks/gitlab/${sourceId}`,
      steps:
        "Project → Settings → Webhooks → Add new webhook. URL: ConHub's public URL followed by the path; " +
        "Secret token: webhook.secret; Trigger: Push events (all branches, or the source's branch).",
    },
    {
      provider: "bitbucket",
      path: `/api/webhooks/bitbucket/${sourceId}`,
      steps:
        "Repository settings → Webhooks → Add webhook. URL: ConHub's public URL followed by the path; " +
        "Secret: webhook.secret; Triggers: Repository push.",
    },
  ];
}
