import { Worker } from "node:worker_threads";
import { preferOptimizedWasm } from "../chunking/parser.js";
import type { FileOutcome, FileTask, FileTaskOptions } from "./file-task.js";
import { workerEntry } from "./worker-entry.js";

/**
 * A fixed set of worker threads running `runFileTask`. Each worker has its
 * own web-tree-sitter runtime and grammars (loaded on first use), so files
 * are parsed on every core while the calling thread stays free to write
 * the index. `run` hands a group of files to the least busy worker, in one
 * message each way: one message per file cost the writing thread a wakeup
 * of a worker (and often a context switch) per file, which showed in its
 * profile on trees of many small files. Callers bound how many files they
 * keep in flight (`ingestLocalDirectory` does), which bounds memory:
 * nothing here queues without limit.
 */

interface Pending {
  resolve: (outcomes: FileOutcome[]) => void;
  reject: (err: Error) => void;
  files: number;
}

interface Slot {
  worker: Worker;
  busy: number;
  pending: Map<number, Pending>;
}

export class FilePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  /** Starts `size` workers (see `worker-entry.ts` for what they load). */
  static async start(size: number, options: FileTaskOptions): Promise<FilePool> {
    return new FilePool(await workerEntry(), size, options);
  }

  private constructor(entry: URL, size: number, options: FileTaskOptions) {
    // Before any worker exists: V8 flags must not change while a worker compiles wasm.
    preferOptimizedWasm();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry, {
        workerData: { options },
      });
      const slot: Slot = { worker, busy: 0, pending: new Map() };
      worker.on("message", (msg: { id?: number; outcomes?: FileOutcome[]; error?: string }) => {
        if (msg.id === undefined) return;
        const pending = slot.pending.get(msg.id);
        if (!pending) return;
        slot.pending.delete(msg.id);
        slot.busy -= pending.files;
        if (msg.error !== undefined) pending.reject(new Error(`indexing worker failed: ${msg.error}`));
        else pending.resolve(msg.outcomes!);
      });
      const fail = (err: Error) => {
        for (const pending of slot.pending.values()) pending.reject(err);
        slot.pending.clear();
        slot.busy = 0;
      };
      worker.on("error", (err) => fail(new Error(`indexing worker crashed: ${err.message}`, { cause: err })));
      worker.on("exit", (code) => {
        if (!this.closed) fail(new Error(`indexing worker exited (code ${code}) with files in flight`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Processes `tasks` in one worker, in order; resolves with their outcomes in the same order. */
  run(tasks: FileTask[]): Promise<FileOutcome[]> {
    if (this.closed) return Promise.reject(new Error("the indexing pool is closed"));
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.busy < slot.busy) slot = s;
    const id = this.nextId++;
    slot.busy += tasks.length;
    return new Promise<FileOutcome[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, files: tasks.length });
      slot.worker.postMessage({ id, tasks });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
