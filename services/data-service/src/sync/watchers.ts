import { relative, sep } from "node:path";
import { DEFAULT_CLASSIFY } from "@conhub/indexer";
import type { Dialect, JobQueue } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import { type FSWatcher, watch } from "chokidar";
import type { Kysely } from "kysely";
import type { DataDatabase } from "../db/schema.js";
import { requestSync } from "./requests.js";

const vendored = new Set(DEFAULT_CLASSIFY.vendoredDirs);

/**
 * Live updates of local-folder sources: a watcher per folder (with
 * `watch: true`) gathers changed paths for `debounceMs` and asks for an
 * incremental sync of them. The set of watched folders follows the
 * sources table (checked every `refreshMs`).
 */
export function startWatchers(options: {
  db: Kysely<DataDatabase>;
  dialect: Dialect;
  queue: JobQueue;
  logger: Logger;
  debounceMs?: number;
  refreshMs?: number;
}): { stop(): Promise<void>; refresh(): Promise<void> } {
  const { db, queue, logger } = options;
  const syncDeps = { db, dialect: options.dialect, queue };
  const watchers = new Map<
    string,
    { path: string; watcher: FSWatcher; timer?: NodeJS.Timeout; paths: Set<string> }
  >();
  let stopped = false;

  const refresh = async () => {
    if (stopped) return;
    const rows = await db
      .selectFrom("sources")
      .select(["id", "config"])
      .where("type", "=", "local")
      .execute();
    const wanted = new Map<string, string>();
    for (const row of rows) {
      const config = JSON.parse(row.config) as { path: string; watch?: boolean };
      if (config.watch !== false) wanted.set(row.id, config.path);
    }
    for (const [id, entry] of watchers) {
      if (wanted.get(id) !== entry.path) {
        watchers.delete(id);
        clearTimeout(entry.timer);
        await entry.watcher.close();
      }
    }
    for (const [id, path] of wanted) {
      if (watchers.has(id)) continue;
      const watcher = watch(path, {
        ignoreInitial: true,
        ignored: (p: string) => p.split(sep).some((s) => vendored.has(s)),
        awaitWriteFinish: false,
      });
      const entry = {
        path,
        watcher,
        paths: new Set<string>(),
        timer: undefined as NodeJS.Timeout | undefined,
      };
      const onChange = (file: string) => {
        entry.paths.add(relative(path, file).split(sep).join("/"));
        clearTimeout(entry.timer);
        entry.timer = setTimeout(() => {
          const paths = [...entry.paths];
          entry.paths.clear();
          requestSync(syncDeps, id, { mode: "incremental", trigger: "watch", paths }).catch((err) =>
            logger.warn({ err, sourceId: id }, "queueing a sync for changed files failed"),
          );
        }, options.debounceMs ?? 300);
      };
      watcher.on("add", onChange).on("change", onChange).on("unlink", onChange).on("unlinkDir", onChange);
      watcher.on("error", (err) =>
        logger.warn({ err, sourceId: id, path }, "watching a local source failed"),
      );
      watchers.set(id, entry);
    }
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), options.refreshMs ?? 10_000);
  timer.unref();
  void refresh().catch((err) => logger.warn({ err }, "starting source watchers failed"));
  return {
    refresh,
    async stop() {
      stopped = true;
      clearInterval(timer);
      for (const entry of watchers.values()) {
        clearTimeout(entry.timer);
        await entry.watcher.close();
      }
      watchers.clear();
    },
  };
}
