import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { openSqliteStore, type RelationalStore } from "@conhub/storage";
import { eventually, tempDir } from "@conhub/storage/testing";
import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { openEmbeddedKeywordIndex } from "../keyword/embedded.js";

// A real `conhub index` process is killed (SIGKILL) in the middle of a run, then the
// index is opened and the run repeated: what the killed run committed must be whole
// and kept, and nothing it left half-written may show.
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "cli/bin/conhub.mjs");
const FILES = 3000;

/** Files of ~4 KB, each with a word of its own (`marker<i>`), enough to need worker threads. */
async function writeTree(root: string): Promise<void> {
  for (let dir = 0; dir < FILES / 100; dir++) {
    await mkdir(join(root, `pkg${dir}`), { recursive: true });
    const writes: Promise<void>[] = [];
    for (let k = 0; k < 100; k++) {
      const i = dir * 100 + k;
      const functions = Array.from(
        { length: 12 },
        (_, f) => `
/** Computes the ${f}th value of series ${i}. */
export function series${i}Value${f}(input: number[]): number {
  let total = ${f};
  for (const value of input) total += value * ${i % 7} + ${f};
  return total > ${i} ? total - ${i} : total;
}
`,
      ).join("");
      writes.push(
        writeFile(
          join(root, `pkg${dir}`, `file${i}.ts`),
          `// marker${i}\nexport const id${i} = ${i};\n${functions}`,
        ),
      );
    }
    await Promise.all(writes);
  }
}

function env(): NodeJS.ProcessEnv {
  const e = { ...process.env };
  delete e.CONHUB_DATA_DIR;
  delete e.NODE_OPTIONS;
  return e;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

async function one<T>(store: RelationalStore, query: ReturnType<typeof sql<T>>): Promise<T> {
  return (await query.execute(store.db)).rows[0]!;
}

/** The invariants a crash must not break, as counts that should all be zero. */
async function inconsistencies(store: RelationalStore) {
  return one(
    store,
    sql<Record<string, number>>`select
      (select count(*) from documents d where d.chunk_count <> (select count(*) from chunks c where c.document_id = d.id)) as "chunkCounts",
      (select count(*) from chunks) - (select chunks from keyword_totals) as "wordRows",
      (select count(*) from chunks) - (select count(*) from chunks_trigram) as "trigramRows",
      (select count(*) from chunks where document_id not in (select id from documents)) as "orphanChunks",
      (select count(*) from symbols where document_id not in (select id from documents)) as "orphanSymbols",
      (select count(*) from redactions where document_id not in (select id from documents)) as "orphanRedactions"`,
  );
}

describe("a local index run killed half-way", () => {
  it("keeps what it committed, shows nothing half-written, and the next run does only the rest", async () => {
    const root = await tempDir("conhub-crash-tree-");
    const dataDir = await tempDir("conhub-crash-data-");
    await writeTree(root);

    const child = spawn(process.execPath, [bin, "index", root, "--data-dir", dataDir], {
      env: env(),
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));

    // Kill it once it has committed some files, from another connection to the same file.
    const watcher = await openSqliteStore({ dataDir, service: "indexer" });
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`conhub index ended before it was killed:\n${stderr}`);
          const { n } = await one(watcher, sql<{ n: number }>`select count(*) as n from documents`);
          if (n === 0) throw new Error("nothing committed yet");
        },
        120_000,
        20,
      );
    } finally {
      await watcher.close();
    }
    child.kill("SIGKILL");
    await exited;
    expect(child.signalCode).toBe("SIGKILL");

    const opened = await openEmbeddedKeywordIndex(dataDir);
    try {
      const ok = await one(opened.store, sql<{ integrity_check: string }>`pragma integrity_check`);
      expect(ok.integrity_check).toBe("ok");
      expect(await inconsistencies(opened.store)).toEqual({
        chunkCounts: 0,
        wordRows: 0,
        trigramRows: 0,
        orphanChunks: 0,
        orphanSymbols: 0,
        orphanRedactions: 0,
      });
      const first = (
        await sql<{
          path: string;
          id: number;
          indexed_at: string;
        }>`select path, id, indexed_at from documents`.execute(opened.store.db)
      ).rows;
      // Killed half-way: some files committed, not all.
      expect(first.length).toBeGreaterThan(0);
      expect(first.length).toBeLessThan(FILES);
      await opened.close();

      const { stdout } = await promisify(execFile)(
        process.execPath,
        [bin, "index", root, "--data-dir", dataDir, "--json"],
        { env: env(), maxBuffer: 8 * 1024 * 1024 },
      );
      const second = JSON.parse(stdout) as { files: number; indexed: number; unchanged: number };
      // The files the killed run committed were not processed again; the rest were.
      expect(second).toMatchObject({ files: FILES, unchanged: first.length, indexed: FILES - first.length });

      const reopened = await openEmbeddedKeywordIndex(dataDir);
      try {
        expect(await inconsistencies(reopened.store)).toEqual({
          chunkCounts: 0,
          wordRows: 0,
          trigramRows: 0,
          orphanChunks: 0,
          orphanSymbols: 0,
          orphanRedactions: 0,
        });
        const after = new Map(
          (
            await sql<{
              path: string;
              id: number;
              indexed_at: string;
            }>`select path, id, indexed_at from documents`.execute(reopened.store.db)
          ).rows.map((r) => [r.path, r]),
        );
        expect(after.size).toBe(FILES);
        for (const doc of first) expect(after.get(doc.path)).toEqual(doc);

        // Content from both runs is found by search, grep and symbols.
        const byFirst = first[0]!.path;
        const bySecond = [...after.keys()].find((p) => !first.some((d) => d.path === p))!;
        for (const path of [byFirst, bySecond]) {
          const i = /file(\d+)\.ts$/.exec(path)![1];
          const hits = await reopened.index.search({ query: `marker${i}` });
          expect(hits.map((h) => h.path)).toContain(path);
          const grep = await reopened.index.grep({ pattern: `series${i}Value11\\(` });
          expect(grep.hits.map((h) => h.path)).toEqual([path]);
          expect((await reopened.index.symbols({ name: `series${i}Value3` })).map((s) => s.file)).toEqual([
            path,
          ]);
        }
      } finally {
        await reopened.close();
      }
    } finally {
      await opened.close();
    }
  }, 300_000);
});
