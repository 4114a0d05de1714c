/**
 * Runs in a child process (`node --import tsx`): opens a usearch store on a
 * folder, performs the steps given as JSON, prints `{"ready":true}` and
 * waits to be killed, so a test can crash a real writer at a known point.
 */
import { openUsearchVectorStore } from "./usearch.js";

export interface ChildPlan {
  dir: string;
  space: { model: string; dimensions: number };
  snapshotAfterRecords: number;
  steps: Array<
    | { upsert: Array<{ chunkId: number; sourceId: string; vector: number[] }> }
    | { delete: number[] }
    | { flush: true }
  >;
}

const plan = JSON.parse(process.argv[2] ?? "{}") as ChildPlan;
const store = await openUsearchVectorStore({
  dir: plan.dir,
  snapshotAfterRecords: plan.snapshotAfterRecords,
});
await store.open(plan.space);
for (const step of plan.steps) {
  if ("upsert" in step) {
    await store.upsert(step.upsert.map((r) => ({ ...r, vector: Float32Array.from(r.vector) })));
  } else if ("delete" in step) {
    await store.delete(step.delete);
  } else {
    await store.flush();
  }
}
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
setInterval(() => undefined, 60_000);
