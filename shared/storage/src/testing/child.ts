/**
 * A separate process for the contract suites: `migrate` runs the sample
 * migrations (to race another process), `hang-worker` takes one job and never
 * finishes it, to be killed with SIGKILL (a crashed worker).
 * Usage: node --import tsx child.ts <command> <spec JSON> [args…]
 */
import { sampleMigrations } from "./sample-migrations.js";
import { openQueueFromSpec, openRelationalFromSpec, type QueueSpec, type RelationalSpec } from "./specs.js";

const [command, specJson, ...rest] = process.argv.slice(2);
if (!command || !specJson) throw new Error("usage: child.ts <command> <spec JSON> [args…]");

if (command === "migrate") {
  const store = await openRelationalFromSpec(JSON.parse(specJson) as RelationalSpec);
  const applied = await store.migrate(sampleMigrations);
  await store.close();
  process.stdout.write(`${JSON.stringify({ applied })}\n`);
} else if (command === "hang-worker") {
  const [queueName, leaseMs] = rest;
  const queue = await openQueueFromSpec(JSON.parse(specJson) as QueueSpec);
  queue.work(
    queueName as string,
    async (job) => {
      process.stdout.write(`${JSON.stringify({ started: job.id, attempt: job.attempt })}\n`);
      await new Promise(() => undefined);
    },
    { leaseMs: Number(leaseMs) },
  );
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
} else {
  throw new Error(`unknown command ${command}`);
}
