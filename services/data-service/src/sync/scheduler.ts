import type { Dialect, JobQueue } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import type { Kysely } from "kysely";
import type { DataDatabase } from "../db/schema.js";
import { requestSync } from "./requests.js";

/**
 * Scheduled syncs: every `tickMs`, sources whose `next_sync_at` has passed
 * get an incremental sync. The next time (one period from now: after a long
 * downtime a source syncs once, not once per missed period) is moved on with
 * a conditional update first, so of several processes only one queues each
 * due sync; if queueing then fails, the time is given back. Sources without
 * a schedule (`schedule_minutes` null) are never picked.
 */
export function startScheduler(options: {
  db: Kysely<DataDatabase>;
  dialect: Dialect;
  queue: JobQueue;
  logger: Logger;
  tickMs?: number;
}): { stop(): void } {
  const { db, queue, logger } = options;
  const syncDeps = { db, dialect: options.dialect, queue };
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const now = new Date().toISOString();
      const due = await db
        .selectFrom("sources")
        .select(["id", "schedule_minutes", "next_sync_at"])
        .where("next_sync_at", "<=", now)
        .where("schedule_minutes", "is not", null)
        .orderBy("next_sync_at")
        .limit(100)
        .execute();
      for (const source of due) {
        const next = new Date(Date.now() + (source.schedule_minutes ?? 60) * 60_000).toISOString();
        const taken = await db
          .updateTable("sources")
          .set({ next_sync_at: next })
          .where("id", "=", source.id)
          .where("next_sync_at", "=", source.next_sync_at)
          .executeTakeFirst();
        if (Number(taken.numUpdatedRows) !== 1) continue; // Another process took it.
        try {
          await requestSync(syncDeps, source.id, { mode: "incremental", trigger: "schedule" });
        } catch (err) {
          // Not queued: give the time back, so this sync is tried at the next tick, not a period later.
          await db
            .updateTable("sources")
            .set({ next_sync_at: source.next_sync_at })
            .where("id", "=", source.id)
            .where("next_sync_at", "=", next)
            .execute()
            .catch(() => undefined);
          throw err;
        }
      }
    } catch (err) {
      logger.warn({ err }, "scheduling syncs failed; trying again at the next tick");
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.tickMs ?? 15_000);
  timer.unref();
  void tick();
  return { stop: () => clearInterval(timer) };
}
