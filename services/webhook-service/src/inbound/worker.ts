import type { Job, JobHandler } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import { type DeliveriesDb, finish, type InboundJobPayload } from "./deliveries.js";
import { type GitProvider, planSync, summarizePush } from "./push.js";
import type { SourceDirectory } from "./sources.js";

/** Summary of a push for the delivery log: refs, commits and how many paths changed. */
function summaryOf(summary: ReturnType<typeof summarizePush>, tracked: string | undefined) {
  return {
    event: summary.event,
    trackedBranch: tracked ?? summary.defaultBranch ?? null,
    refs: summary.updates.map((u) => ({
      kind: u.kind,
      name: u.name,
      commits: u.commits,
      paths: u.paths ? u.paths.length : null,
      created: u.created,
      deleted: u.deleted,
      forced: u.forced,
    })),
  };
}

/**
 * Processes a verified delivery off the request path: a push to the
 * source's tracked branch becomes an incremental sync request of the changed
 * paths; everything else is recorded as ignored with the reason. A failure
 * to reach the data service is retried by the queue; after the last try the
 * delivery is `failed` (and can be redelivered).
 */
export function inboundHandler(deps: {
  db: DeliveriesDb;
  sources: SourceDirectory;
  logger: Logger;
}): JobHandler<InboundJobPayload> {
  const { db, sources, logger } = deps;
  return async (job: Job<InboundJobPayload>) => {
    const row = await db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("id", "=", job.payload.deliveryId)
      .executeTakeFirst();
    if (row?.verified !== 1 || row.body === null) return;
    // At-least-once: a job run again after its outcome was recorded has nothing left to do.
    if (row.status === "processed" || row.status === "ignored") return;
    await db
      .updateTable("webhook_deliveries")
      .set({ attempts: row.attempts + 1 })
      .where("id", "=", row.id)
      .execute();
    try {
      if (row.provider === "dropbox" || row.provider === "gdrive") {
        await finish(db, row, "ignored", "connector not available yet");
        return;
      }
      if (row.provider !== "github" && row.provider !== "gitlab" && row.provider !== "bitbucket") {
        await finish(db, row, "ignored", `no processing for ${row.provider} deliveries`);
        return;
      }
      const summary = summarizePush(row.provider as GitProvider, row.event, JSON.parse(row.body));
      const context = row.source_id ? await sources.get(row.source_id) : undefined;
      if (!context) {
        await finish(db, row, "failed", "the source no longer exists", summaryOf(summary, undefined));
        return;
      }
      const plan = planSync(summary, context.config.branch);
      const logged = { ...summaryOf(summary, context.config.branch), plan };
      if (plan.action === "ignore") {
        await finish(db, row, "ignored", plan.reason, logged);
        return;
      }
      const queued = await sources.requestSync(context.sourceId, {
        mode: plan.mode,
        ...(plan.paths ? { paths: plan.paths } : {}),
      });
      if (!queued) {
        await finish(db, row, "failed", "the source no longer exists", logged);
        return;
      }
      await finish(db, row, "processed", `${plan.mode} sync requested: ${plan.reason}`, {
        ...logged,
        syncJobId: queued.jobId,
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const last = job.attempt >= job.maxAttempts;
      logger.warn(
        { delivery: row.id, attempt: job.attempt, last, err: message },
        "webhook processing failed",
      );
      if (last) {
        await finish(db, row, "failed", `processing failed after ${job.attempt} attempt(s): ${message}`);
        return;
      }
      await db
        .updateTable("webhook_deliveries")
        .set({ status: "queued", status_message: `attempt ${job.attempt} failed, retrying: ${message}` })
        .where("id", "=", row.id)
        .execute();
      throw err;
    }
  };
}
