import { parentPort, workerData } from "node:worker_threads";
import { type FileTask, type FileTaskOptions, runFileTask } from "./file-task.js";

/**
 * The message loop of an ingest worker thread (`pool.ts`): runs `runFileTask`
 * on each file of a message, in order, and answers with all their outcomes.
 * Loaded as a bundle (`worker-entry.ts`) or through the TypeScript loader
 * (`file-worker.mjs`).
 */
const port = parentPort;
if (!port) throw new Error("file-worker-loop runs in a worker thread");
const options = (workerData as { options: FileTaskOptions }).options;

port.on("message", async ({ id, tasks }: { id: number; tasks: FileTask[] }) => {
  try {
    const outcomes = [];
    for (const task of tasks) outcomes.push(await runFileTask(task, options));
    port.postMessage({ id, outcomes });
  } catch (err) {
    port.postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
