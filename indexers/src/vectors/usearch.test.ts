import { spawn } from "node:child_process";
import { appendFile, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { closeAfterTest, tempDir } from "@conhub/storage/testing";
import { describe, expect, it, onTestFinished } from "vitest";
import type { VectorStore } from "../ports/vector-store.js";
import { unit } from "./fixtures.test-support.js";
import { openUsearchVectorStore, type UsearchVectorStoreOptions } from "./usearch.js";
import type { ChildPlan } from "./usearch-child.test-support.js";
import { decodeJournal } from "./usearch-journal.js";

const SPACE = { model: "test:usearch", dimensions: 4 };
const axis = (i: number) => Array.from({ length: 4 }, (_, j) => (j === i ? 1 : 0));
const record = (chunkId: number, sourceId: string, vector: number[]) => ({ chunkId, sourceId, vector });

/**
 * A writer killed at a known point (SIGKILL, no chance to clean up):
 * 1-3 flushed into a snapshot (3 records trigger one), 4 flushed into the
 * journal, then 5 upserted and 1 deleted without a flush.
 */
const CRASH_STEPS: ChildPlan["steps"] = [
  { upsert: [record(1, "s1", axis(0)), record(2, "s1", axis(1)), record(3, "s2", axis(2))] },
  { flush: true },
  { upsert: [record(4, "s2", axis(3))] },
  { flush: true },
  { upsert: [record(5, "s1", [1, 1, 0, 0])] },
  { delete: [1] },
];

async function crashAfter(dir: string, steps: ChildPlan["steps"]): Promise<void> {
  const plan: ChildPlan = { dir, space: SPACE, snapshotAfterRecords: 3, steps };
  const script = fileURLToPath(new URL("./usearch-child.test-support.ts", import.meta.url));
  const tsx = createRequire(import.meta.url).resolve("tsx");
  const child = spawn(process.execPath, ["--import", tsx, script, JSON.stringify(plan)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('{"ready":true}')) resolve();
    });
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before it was ready:\n${stderr}`)));
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

async function reopen(dir: string, options: Partial<UsearchVectorStoreOptions> = {}): Promise<VectorStore> {
  return closeAfterTest(await openUsearchVectorStore({ dir, ...options }));
}

async function ids(store: VectorStore): Promise<number[]> {
  return (await store.search(unit([1, 1, 1, 1]), { limit: 100 })).map((h) => h.chunkId).sort((a, b) => a - b);
}

async function filesOf(dir: string) {
  // The lock file of a live store is not part of its contents.
  const names = (await readdir(dir)).filter((n) => n !== "lock").sort();
  return {
    names,
    indexes: names.filter((n) => n.endsWith(".usearch")),
    journal: names.find((n) => n.startsWith("journal-")),
  };
}

describe("usearch vector store on disk", () => {
  it("a crash loses only what was not flushed, from the snapshot and the journal", async () => {
    const dir = await tempDir("conhub-usearch-");
    await crashAfter(dir, CRASH_STEPS);
    const files = await filesOf(dir);
    // A snapshot of the two sources (1-3), and the journal holding 4.
    expect(files.indexes).toHaveLength(2);
    expect(decodeJournal(await readFile(join(dir, files.journal!)), 4).ops.map((o) => o.chunkId)).toEqual([
      4,
    ]);

    const store = await reopen(dir);
    expect(await store.open(SPACE)).toEqual({ reset: false });
    expect(await store.count()).toBe(4);
    expect(await ids(store)).toEqual([1, 2, 3, 4]);
    expect((await store.search(unit(axis(3)), { limit: 1, sourceIds: ["s2"] }))[0]).toMatchObject({
      chunkId: 4,
    });
    // A clean close leaves a snapshot of everything and an empty journal.
    await store.close();
    const after = await filesOf(dir);
    expect(after.names).toEqual(["manifest.json", after.journal, ...after.indexes].sort());
    expect((await stat(join(dir, after.journal!))).size).toBe(0);
    const again = await reopen(dir);
    expect(await again.open(SPACE)).toEqual({ reset: false });
    expect(await ids(again)).toEqual([1, 2, 3, 4]);
  });

  it("drops a record cut short at the journal's end and appends after the last whole one", async () => {
    const dir = await tempDir("conhub-usearch-");
    await crashAfter(dir, CRASH_STEPS);
    const { journal } = await filesOf(dir);
    const path = join(dir, journal!);
    const whole = (await stat(path)).size;
    // A frame announcing 100 bytes of which only 10 arrived.
    const torn = Buffer.alloc(18);
    torn.writeUInt32LE(100, 0);
    await appendFile(path, torn);

    const store = await reopen(dir);
    expect(await store.open(SPACE)).toEqual({ reset: false });
    expect(await ids(store)).toEqual([1, 2, 3, 4]);
    expect((await stat(path)).size).toBe(whole);
    await store.upsert([{ chunkId: 6, sourceId: "s3", vector: unit([1, 0, 1, 0]) }]);
    await store.flush();
    const decoded = decodeJournal(await readFile(path), 4);
    expect(decoded).toMatchObject({ damaged: false });
    expect(decoded.ops.map((o) => o.chunkId)).toEqual([4, 6]);
  });

  it("starts over, without crashing, when an index file is damaged", async () => {
    const dir = await tempDir("conhub-usearch-");
    await crashAfter(dir, CRASH_STEPS);
    const { indexes } = await filesOf(dir);
    const path = join(dir, indexes[0]!);
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(path, bytes);

    const store = await reopen(dir);
    expect(await store.open(SPACE)).toEqual({ reset: true });
    expect(await store.count()).toBe(0);
    expect((await filesOf(dir)).indexes).toEqual([]);
    await store.upsert([{ chunkId: 1, sourceId: "s1", vector: unit(axis(0)) }]);
    expect(await ids(store)).toEqual([1]);
  });

  it("starts over when an index file is cut short, or the manifest is not JSON", async () => {
    const dir = await tempDir("conhub-usearch-");
    await crashAfter(dir, CRASH_STEPS);
    const { indexes } = await filesOf(dir);
    const path = join(dir, indexes[1]!);
    await writeFile(path, (await readFile(path)).subarray(0, 20));
    const store = await reopen(dir);
    expect(await store.open(SPACE)).toEqual({ reset: true });
    await store.close();

    await writeFile(join(dir, "manifest.json"), "{ not json");
    const again = await reopen(dir);
    expect(await again.open(SPACE)).toEqual({ reset: true });
    expect(await again.count()).toBe(0);
  });

  it("starts over when a journal record in the middle is damaged", async () => {
    const dir = await tempDir("conhub-usearch-");
    await crashAfter(dir, [
      ...CRASH_STEPS.slice(0, 4),
      { upsert: [record(7, "s1", [0, 1, 1, 0])] },
      { flush: true },
    ]);
    const { journal } = await filesOf(dir);
    const path = join(dir, journal!);
    const bytes = await readFile(path);
    expect(decodeJournal(bytes, 4).ops.map((o) => o.chunkId)).toEqual([4, 7]);
    bytes[12]! ^= 0xff; // inside the first record's payload
    await writeFile(path, bytes);

    const store = await reopen(dir);
    expect(await store.open(SPACE)).toEqual({ reset: true });
    expect(await store.count()).toBe(0);
  });

  it("removes a source's file once its vectors are gone, and every file of an old model", async () => {
    const dir = await tempDir("conhub-usearch-");
    const first = await reopen(dir);
    await first.open(SPACE);
    await first.upsert([
      { chunkId: 1, sourceId: "s1", vector: unit(axis(0)) },
      { chunkId: 2, sourceId: "s2", vector: unit(axis(1)) },
      { chunkId: 3, sourceId: "s2", vector: unit(axis(2)) },
    ]);
    await first.close();
    expect((await filesOf(dir)).indexes).toHaveLength(2);

    const second = await reopen(dir);
    await second.open(SPACE);
    await second.delete([2, 3]);
    await second.close();
    expect((await filesOf(dir)).indexes).toHaveLength(1);

    const third = await reopen(dir);
    expect(await third.open(SPACE)).toEqual({ reset: false });
    expect(await ids(third)).toEqual([1]);
    expect(await third.open({ model: "test:other", dimensions: 4 })).toEqual({ reset: true });
    const files = await filesOf(dir);
    expect(files.indexes).toEqual([]);
    expect(files.names).toEqual(["manifest.json", files.journal].sort());
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { model: string };
    expect(manifest.model).toBe("test:other");
  });

  it("serves searches while writes and flushes queue up, and snapshots as the journal grows", async () => {
    const dir = await tempDir("conhub-usearch-");
    const store = await reopen(dir, { snapshotAfterRecords: 50, snapshotRatio: 0 });
    await store.open(SPACE);
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      const v = unit([Math.cos(i), Math.sin(i), (i % 7) / 7, 1]);
      writes.push(store.upsert([{ chunkId: i + 1, sourceId: `s${i % 3}`, vector: v }]));
      if (i % 20 === 19) writes.push(store.flush());
    }
    // Searches do not wait for the queue: they see whatever has been applied.
    expect((await store.search(unit([1, 0, 0, 1]), { limit: 5 })).length).toBeLessThanOrEqual(5);
    await Promise.all(writes);
    expect(await store.count()).toBe(200);
    // 200 records in flushes of 20 with snapshots every 50: the journal never holds more than 60.
    const { journal } = await filesOf(dir);
    expect(decodeJournal(await readFile(join(dir, journal!)), 4).ops.length).toBeLessThan(60);
  });
});
