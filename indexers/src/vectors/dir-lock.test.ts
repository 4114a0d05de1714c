import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@conhub/storage/testing";
import { describe, expect, it } from "vitest";
import { openUsearchVectorStore } from "./usearch.js";

/** A live process that is not this one. */
function otherProcess() {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

describe("one process per embedded vector store", () => {
  it("refuses a store another live process holds, naming it, and takes over a stale lock", async () => {
    const dir = await tempDir();
    const other = otherProcess();
    try {
      await writeFile(join(dir, "lock"), String(other.pid));
      await expect(openUsearchVectorStore({ dir })).rejects.toThrow(
        new RegExp(`in use by another ConHub process \\(pid ${other.pid}\\)`),
      );
    } finally {
      await other.stop();
    }
    // Its process is gone: the lock is stale.
    const store = await openUsearchVectorStore({ dir });
    await store.open({ model: "m", dimensions: 4 });
    await store.close();
  });

  it("lets the next opener in once the holder closes", async () => {
    const dir = await tempDir();
    const first = await openUsearchVectorStore({ dir });
    await first.close();
    const second = await openUsearchVectorStore({ dir });
    await second.close();
  });
});
