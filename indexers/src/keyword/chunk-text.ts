import { deflateRawSync, inflateRawSync } from "node:zlib";
import { Precomputed } from "../precomputed.js";

/**
 * How the SQLite adapter stores chunk text: raw DEFLATE (zlib level 1, the
 * fastest) in a BLOB when that is smaller, else the text itself. The column
 * keeps its TEXT declaration (SQLite stores a BLOB in it unchanged), so rows
 * written before compression (TEXT values) and after (BLOBs) live side by
 * side and are told apart by type: an index made by an older version keeps
 * working, and each document is stored compressed the next time it changes.
 * Text is decompressed only for rows actually returned (search hits,
 * documents, grep candidates, embedding input, FTS deletes).
 */

/** Below this many UTF-16 units compression rarely pays for its 2–5 bytes of framing. */
const MIN_COMPRESSED_LENGTH = 64;
const LEVEL = 1;

export type StoredChunkText = string | Uint8Array;

/** Stored values computed in local ingest's worker threads (`withEncodedChunkTexts`), not by the writer. */
const precomputed = new Precomputed<StoredChunkText>();

/** The value to store for a chunk's text. */
export function encodeChunkText(text: string): StoredChunkText {
  if (text.length < MIN_COMPRESSED_LENGTH) return text;
  const known = precomputed.get(text);
  if (known !== undefined) return known;
  const raw = Buffer.from(text, "utf8");
  const packed = deflateRawSync(raw, { level: LEVEL });
  return packed.length < raw.length ? packed : text;
}

/** A chunk's text from its stored value (either form). */
export function decodeChunkText(stored: StoredChunkText): string {
  if (typeof stored === "string") return stored;
  return inflateRawSync(stored).toString("utf8");
}

/**
 * Runs `fn` with the stored value of each of `texts` known in advance from
 * `encoded` (`encodeChunkText` of each, computed in another thread).
 */
export function withEncodedChunkTexts<T>(
  texts: readonly string[],
  encoded: readonly (StoredChunkText | undefined)[],
  fn: () => Promise<T>,
): Promise<T> {
  // A worker thread's message delivers a Buffer as a plain Uint8Array: a Buffer again (no copy), as stored.
  const values = encoded.map((value) =>
    value === undefined || typeof value === "string"
      ? value
      : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
  );
  return precomputed.with(texts, values, fn);
}
