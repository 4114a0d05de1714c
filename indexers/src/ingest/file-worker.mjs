// A worker thread of the ingest pool (`pool.ts`): runs `runFileTask` on each
// file of a message, in order, and answers with all their outcomes. Worker threads do not inherit the module hooks the parent
// registered (Node 20), so the TypeScript loader the CLI uses (tsx, see
// cli/bin/conhub.mjs) is registered here before the worker's module loads.
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { runFileTask } = await import("./file-task.ts");

parentPort.on("message", async ({ id, tasks }) => {
  try {
    const outcomes = [];
    for (const task of tasks) outcomes.push(await runFileTask(task, workerData.options));
    parentPort.postMessage({ id, outcomes });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});
parentPort.postMessage({ ready: true });
