import type { VectorHit, VectorRecord, VectorSpace } from "../ports/vector-store.js";

/**
 * Checks shared by every vector adapter, so a bad vector fails the same way
 * (and before anything is written) whichever store is configured.
 */

export function describeSpace(space: VectorSpace): string {
  return `${space.dimensions}-dimension vectors of model ${JSON.stringify(space.model)}`;
}

export function assertSpace(space: VectorSpace): void {
  if (typeof space.model !== "string" || space.model.length === 0) {
    throw new TypeError("A vector space needs a model id (the embedding provider's `info().id`).");
  }
  if (!Number.isInteger(space.dimensions) || space.dimensions < 1 || space.dimensions > 16_000) {
    throw new TypeError(
      `Invalid vector dimensions ${space.dimensions}: expected a whole number from 1 to 16000.`,
    );
  }
}

export function assertChunkId(chunkId: number): void {
  // Chunk ids are SQLite/PostgreSQL row ids: positive, and within what a double holds exactly.
  if (!Number.isSafeInteger(chunkId) || chunkId < 0) {
    throw new TypeError(`Invalid chunk id ${chunkId}: expected a non-negative whole number.`);
  }
}

/** A vector of the store's length with finite, not all zero, components (cosine of a zero vector is undefined). */
export function assertVector(vector: Float32Array, space: VectorSpace, what: string): void {
  if (!(vector instanceof Float32Array)) throw new TypeError(`${what} must be a Float32Array.`);
  if (vector.length !== space.dimensions) {
    throw new Error(
      `${what} has ${vector.length} dimensions, but this vector store holds ${describeSpace(space)}. ` +
        "Vectors of another model need open() with that model first (it re-creates the store and re-embeds every chunk).",
    );
  }
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    norm += x * x;
  }
  if (!Number.isFinite(norm)) throw new Error(`${what} has a component that is not a finite number.`);
  if (norm === 0) throw new Error(`${what} is all zeros; it has no direction to compare by cosine.`);
}

/**
 * Validates every record before any is written, and keeps the last record
 * per chunk id (a batch may carry one chunk twice; the later one wins, as
 * two upserts in a row would).
 */
export function checkedRecords(records: readonly VectorRecord[], space: VectorSpace): VectorRecord[] {
  const byId = new Map<number, VectorRecord>();
  for (const record of records) {
    assertChunkId(record.chunkId);
    if (typeof record.sourceId !== "string" || record.sourceId.length === 0) {
      throw new TypeError(`Chunk ${record.chunkId} has no source id.`);
    }
    assertVector(record.vector, space, `The vector of chunk ${record.chunkId}`);
    byId.delete(record.chunkId);
    byId.set(record.chunkId, record);
  }
  return [...byId.values()];
}

export function checkedLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new TypeError(`Invalid search limit ${limit}: expected a non-negative whole number.`);
  }
  return limit;
}

/** Best first; equal scores by chunk id, so results are stable across adapters and runs. */
export function byScore(a: VectorHit, b: VectorHit): number {
  return b.score - a.score || a.chunkId - b.chunkId;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs tasks one at a time in call order; a failed task does not block the next. */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

export function notOpenError(kind: string): Error {
  return new Error(`The ${kind} vector store is not open: call open({ model, dimensions }) first.`);
}
