import { describe, expect, it } from "vitest";
import { deferred, sleep } from "../internal/async.js";
import type { Job, JobQueue, JobState } from "../ports.js";
import {
  closeAfterTest,
  eventually,
  openQueueFromSpec,
  type QueueSpec,
  reachableQueueAdapters,
  spawnChild,
} from "../testing/index.js";

async function open(spec: QueueSpec): Promise<JobQueue> {
  return closeAfterTest(await openQueueFromSpec(spec));
}

async function waitForState(queue: JobQueue, id: string, state: JobState, timeoutMs = 10_000) {
  return eventually(async () => {
    const job = await queue.get(id);
    if (job?.state !== state) throw new Error(`job ${id} is ${job?.state}, not ${state}`);
    return job;
  }, timeoutMs);
}

const fastBackoff = { backoffMs: () => 20 };

describe.each(reachableQueueAdapters())("JobQueue contract: $name", (adapter) => {
  it("runs an enqueued job and records it completed", async () => {
    const queue = await open(await adapter.backend());
    const seen: Job<{ n: number }>[] = [];
    const id = await queue.enqueue("mail", { n: 1 });
    expect(await queue.get(id)).toMatchObject({
      id,
      queue: "mail",
      state: "waiting",
      attempt: 0,
      payload: { n: 1 },
    });
    expect(await queue.counts("mail")).toEqual({ waiting: 1, running: 0, completed: 0, failed: 0 });
    const worker = queue.work<{ n: number }>("mail", async (job) => {
      seen.push(job);
    });
    const done = await waitForState(queue, id, "completed");
    await worker.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      id,
      queue: "mail",
      payload: { n: 1 },
      attempt: 1,
      maxAttempts: 5,
      state: "running",
    });
    expect(seen[0]?.createdAt).toBeInstanceOf(Date);
    expect(done).toMatchObject({ attempt: 1, lastError: undefined });
    expect(await queue.counts("mail")).toEqual({ waiting: 0, running: 0, completed: 1, failed: 0 });
    expect(await queue.get("mail.does-not-exist")).toBeUndefined();
  });

  it("picks up a job enqueued while the worker is idle without waiting for a poll", async () => {
    // A poll interval far longer than the test, so only an in-process wakeup can run the job in time.
    const spec = await adapter.backend();
    const queue = await open(spec.kind === "sqlite" ? { ...spec, pollMs: 60_000 } : spec);
    const ran = deferred<number>();
    const worker = queue.work("fast", async () => ran.resolve(Date.now()));
    await sleep(300);
    const enqueuedAt = Date.now();
    await queue.enqueue("fast", {});
    const latency = (await ran.promise) - enqueuedAt;
    await worker.stop();
    expect(latency).toBeLessThan(10_000);
  });

  it("retries with backoff, then marks the job failed with the last error", async () => {
    const queue = await open(await adapter.backend());
    const attempts: { attempt: number; at: number }[] = [];
    const id = await queue.enqueue("flaky", { x: 1 }, { maxAttempts: 3 });
    const worker = queue.work(
      "flaky",
      async (job) => {
        attempts.push({ attempt: job.attempt, at: Date.now() });
        throw new Error(`boom ${job.attempt}`);
      },
      { backoffMs: (n) => 150 * n },
    );
    const failed = await waitForState(queue, id, "failed");
    await worker.stop();
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(140);
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(290);
    expect(failed).toMatchObject({ attempt: 3, maxAttempts: 3, lastError: "boom 3" });
    expect(await queue.counts("flaky")).toEqual({ waiting: 0, running: 0, completed: 0, failed: 1 });
  });

  it("completes a job that succeeds on a retry, and waits between tries", async () => {
    const queue = await open(await adapter.backend());
    const id = await queue.enqueue("retry", {}, { maxAttempts: 4 });
    const worker = queue.work(
      "retry",
      async (job) => {
        if (job.attempt < 2) throw new Error("not yet");
      },
      fastBackoff,
    );
    const done = await waitForState(queue, id, "completed");
    await worker.stop();
    expect(done.attempt).toBe(2);
  });

  it("treats a handler that throws synchronously as a failed try", async () => {
    const queue = await open(await adapter.backend());
    const id = await queue.enqueue("sync-throw", {}, { maxAttempts: 1 });
    const worker = queue.work("sync-throw", (() => {
      throw new Error("sync");
    }) as unknown as () => Promise<void>);
    expect(await waitForState(queue, id, "failed")).toMatchObject({ lastError: "sync" });
    await worker.stop();
  });

  it("honours delays", async () => {
    const queue = await open(await adapter.backend());
    const ranAt = deferred<number>();
    const worker = queue.work("later", async () => ranAt.resolve(Date.now()));
    const enqueuedAt = Date.now();
    const id = await queue.enqueue("later", {}, { delayMs: 500 });
    await sleep(250);
    expect((await queue.get(id))?.state).toBe("waiting");
    expect(await queue.counts("later")).toMatchObject({ waiting: 1, running: 0 });
    const at = await ranAt.promise;
    await worker.stop();
    expect(at - enqueuedAt).toBeGreaterThanOrEqual(490);
    expect(at - enqueuedAt).toBeLessThan(1500);
  });

  it("deduplicates by key while a job is waiting or running, not after", async () => {
    const queue = await open(await adapter.backend());
    const first = await queue.enqueue("sync", { v: 1 }, { dedupeKey: "source-42" });
    expect(await queue.enqueue("sync", { v: 2 }, { dedupeKey: "source-42" })).toBe(first);
    const other = await queue.enqueue("sync", { v: 3 }, { dedupeKey: "source-43" });
    expect(other).not.toBe(first);
    expect((await queue.counts("sync")).waiting).toBe(2);

    const running = deferred();
    const release = deferred();
    const worker = queue.work<{ v: number }>("sync", async (job) => {
      if (job.id === first) {
        running.resolve();
        await release.promise;
      }
    });
    await running.promise;
    expect(await queue.enqueue("sync", { v: 4 }, { dedupeKey: "source-42" })).toBe(first);
    release.resolve();
    await waitForState(queue, first, "completed");
    const after = await queue.enqueue("sync", { v: 5 }, { dedupeKey: "source-42" });
    expect(after).not.toBe(first);
    await waitForState(queue, after, "completed");
    await worker.stop();
  });

  it("stores progress where `get` can read it", async () => {
    const queue = await open(await adapter.backend());
    const reported = deferred();
    const release = deferred();
    const id = await queue.enqueue("long", {});
    const worker = queue.work("long", async (_job, ctx) => {
      await ctx.progress(0.25, { step: "fetching", files: 3 });
      reported.resolve();
      await release.promise;
      await ctx.progress(1);
    });
    await reported.promise;
    const during = await queue.get(id);
    expect(during).toMatchObject({
      state: "running",
      progress: 0.25,
      progressDetail: { step: "fetching", files: 3 },
    });
    expect(await queue.counts("long")).toMatchObject({ running: 1 });
    release.resolve();
    const done = await waitForState(queue, id, "completed");
    await worker.stop();
    expect(done.progress).toBe(1);
  });

  it("never runs more jobs at once than the worker's concurrency", async () => {
    const queue = await open(await adapter.backend());
    let active = 0;
    let peak = 0;
    const ids = await Promise.all(Array.from({ length: 9 }, (_, i) => queue.enqueue("par", { i })));
    const worker = queue.work(
      "par",
      async () => {
        active += 1;
        peak = Math.max(peak, active);
        await sleep(80);
        active -= 1;
      },
      { concurrency: 3 },
    );
    for (const id of ids) await waitForState(queue, id, "completed");
    await worker.stop();
    expect(peak).toBe(3);
  });

  it("shares a queue between workers on separate handles, each job once", async () => {
    const spec = await adapter.backend();
    const producer = await open(spec);
    const a = await open(spec);
    const b = await open(spec);
    const runs: string[] = [];
    const byWorker = { a: 0, b: 0 };
    const handler = (name: "a" | "b") => async (job: Job) => {
      runs.push(job.id);
      byWorker[name] += 1;
      await sleep(30);
    };
    const wa = a.work("shared", handler("a"));
    const wb = b.work("shared", handler("b"));
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => producer.enqueue("shared", { i })));
    for (const id of ids) await waitForState(producer, id, "completed");
    await Promise.all([wa.stop(), wb.stop()]);
    expect([...runs].sort()).toEqual([...ids].sort());
    expect(byWorker.a).toBeGreaterThan(0);
    expect(byWorker.b).toBeGreaterThan(0);
  });

  it("keeps jobs across a restart of the process that enqueued them", async () => {
    const spec = await adapter.backend();
    const first = await openQueueFromSpec(spec);
    const id = await first.enqueue("durable", { keep: true });
    await first.close();
    const second = await open(spec);
    expect(await second.get(id)).toMatchObject({ state: "waiting", payload: { keep: true } });
    const worker = second.work("durable", async () => undefined);
    await waitForState(second, id, "completed");
    await worker.stop();
  });

  it("requeues a job whose worker stops mid-job, without counting a try, and another worker completes it", async () => {
    const spec = await adapter.backend();
    const q1 = await open(spec);
    const q2 = await open(spec);
    const started = deferred();
    const id = await q1.enqueue("stoppable", {}, { maxAttempts: 1 });
    const first = q1.work("stoppable", async (_job, ctx) => {
      started.resolve();
      await new Promise((_, reject) => ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason)));
    });
    await started.promise;
    const stopAt = Date.now();
    await first.stop(5000);
    expect(Date.now() - stopAt).toBeLessThan(2000);
    // maxAttempts is 1: had the interrupted try counted, the job would be failed now.
    expect(await q1.get(id)).toMatchObject({ state: "waiting", attempt: 0 });
    const attempts: number[] = [];
    const second = q2.work("stoppable", async (job) => {
      attempts.push(job.attempt);
    });
    await waitForState(q2, id, "completed");
    await second.stop();
    expect(attempts).toEqual([1]);
  });

  it("requeues a job whose handler ignores the stop signal once the grace period is over", async () => {
    const spec = await adapter.backend();
    const q1 = await open(spec);
    const q2 = await open(spec);
    const started = deferred();
    const finishLate = deferred();
    const id = await q1.enqueue("stubborn", {});
    const first = q1.work("stubborn", async () => {
      started.resolve();
      await finishLate.promise;
    });
    await started.promise;
    const stopAt = Date.now();
    await first.stop(300);
    const took = Date.now() - stopAt;
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(3000);
    expect(await q1.get(id)).toMatchObject({ state: "waiting", attempt: 0 });
    const second = q2.work("stubborn", async () => undefined);
    const done = await waitForState(q2, id, "completed");
    expect(done.attempt).toBe(1);
    // The abandoned handler finishing late changes nothing.
    finishLate.resolve();
    await sleep(100);
    expect(await q2.get(id)).toMatchObject({ state: "completed", attempt: 1 });
    await second.stop();
  });

  it("gives a crashed worker's job to another worker once its lease expires, and not before", async () => {
    const spec = await adapter.backend();
    const queue = await open(spec);
    const id = await queue.enqueue("crashy", { important: true });
    const child = await spawnChild(["hang-worker", JSON.stringify(spec), "crashy", "500"]);
    await child.line((l) => l.started === id);
    const runs: Job[] = [];
    const takenOver = deferred<number>();
    const worker = queue.work(
      "crashy",
      async (job) => {
        runs.push(job);
        takenOver.resolve(Date.now());
      },
      { leaseMs: 500 },
    );
    // The child is alive and renews its lease: nobody else may take the job.
    await sleep(1200);
    expect(runs).toEqual([]);
    expect((await queue.get(id))?.state).toBe("running");
    const killedAt = Date.now();
    child.kill("SIGKILL");
    const at = await Promise.race([takenOver.promise, sleep(8000).then(() => -1)]);
    expect(at).toBeGreaterThan(0);
    expect(at - killedAt).toBeLessThan(5000);
    await waitForState(queue, id, "completed");
    await worker.stop();
    expect(runs).toHaveLength(1);
    // The crashed try counts.
    expect(runs[0]).toMatchObject({ id, attempt: 2, payload: { important: true } });
  });

  it("fails a job whose last allowed try crashed", async () => {
    const spec = await adapter.backend();
    const queue = await open(spec);
    const id = await queue.enqueue("crash-last", {}, { maxAttempts: 1 });
    const child = await spawnChild(["hang-worker", JSON.stringify(spec), "crash-last", "500"]);
    await child.line((l) => l.started === id);
    child.kill("SIGKILL");
    let ran = false;
    const worker = queue.work(
      "crash-last",
      async () => {
        ran = true;
      },
      { leaseMs: 500 },
    );
    const failed = await waitForState(queue, id, "failed", 8000);
    await worker.stop();
    expect(ran).toBe(false);
    expect(failed.lastError).toMatch(/lease.*expired|crashed/i);
  });

  it("refuses invalid queue names and options", async () => {
    const queue = await open(await adapter.backend());
    await expect(queue.enqueue("has space", {})).rejects.toThrow(TypeError);
    await expect(queue.enqueue("q", {}, { maxAttempts: 0 })).rejects.toThrow(TypeError);
    await expect(queue.enqueue("q", {}, { delayMs: -1 })).rejects.toThrow(TypeError);
    expect(() => queue.work("q:x", async () => undefined)).toThrow(TypeError);
  });

  it("reports itself healthy", async () => {
    const queue = await open(await adapter.backend());
    await expect(queue.health.check()).resolves.toBeUndefined();
  });
});
