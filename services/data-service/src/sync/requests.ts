import type { Dialect, JobQueue } from "@conhub/storage";
import type { Kysely } from "kysely";
import { forUpdate } from "../db/lock.js";
import type { DataDatabase } from "../db/schema.js";
import {
  mergeRequests,
  SYNC_QUEUE,
  type SyncJobPayload,
  type SyncRequest,
  type SyncTrigger,
} from "./model.js";

/**
 * Asks for a sync of a source. The request is merged into the source's
 * pending one (full wins over incremental; path lists are united) and a
 * sync job is queued. A job already waiting for the source is reused; when
 * one is running, a second one is queued: the running job checks for
 * pending requests before it lets the source go, and the new job finds the
 * lock held and leaves it to it, or takes it when it was let go first.
 */
export async function requestSync(
  deps: { db: Kysely<DataDatabase>; dialect: Dialect; queue: JobQueue },
  sourceId: string,
  request: { mode: "full" | "incremental"; paths?: string[]; trigger: SyncTrigger },
): Promise<{ jobId: string } | undefined> {
  const { db, dialect, queue } = deps;
  const found = await db.transaction().execute(async (tx) => {
    const source = await forUpdate(
      tx.selectFrom("sources").select(["pending_request", "status"]).where("id", "=", sourceId),
      dialect,
    ).executeTakeFirst();
    if (!source) return false;
    const merged = mergeRequests(
      source.pending_request ? (JSON.parse(source.pending_request) as SyncRequest) : null,
      { ...request, requestedAt: new Date().toISOString() },
    );
    await tx
      .updateTable("sources")
      .set({
        pending_request: JSON.stringify(merged),
        ...(source.status === "syncing" ? {} : { status: "queued" }),
      })
      .where("id", "=", sourceId)
      .execute();
    return true;
  });
  if (!found) return undefined;
  const payload: SyncJobPayload = { sourceId };
  let jobId = await queue.enqueue(SYNC_QUEUE, payload, { dedupeKey: `sync:${sourceId}`, maxAttempts: 5 });
  const job = await queue.get(jobId);
  if (job?.state === "running") jobId = await queue.enqueue(SYNC_QUEUE, payload, { maxAttempts: 5 });
  return { jobId };
}
