import { deflateRawSync, inflateRawSync } from "node:zlib";

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

/**
 * Stored values already computed elsewhere, by text: local ingest compresses
 * chunk texts in its worker threads (`withEncodedChunkTexts`), so the one
 * thread that writes the index does not. `encodeChunkText` is a pure
 * function of its argument, so a value found here is the value it computes.
 */
let precomputed: ReadonlyMap<string, StoredChunkText> | undefined;

/** The value to store for a chunk's text. */
export function encodeChunkText(text: string): StoredChunkText {
  if (text.length < MIN_COMPRESSED_LENGTH) return text;
  const known = precomputed?.get(text);
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
export async function withEncodedChunkTexts<T>(
  texts: readonly string[],
  encoded: readonly StoredChunkText[],
  fn: () => Promise<T>,
): Promise<T> {
  const known = new Map<string, StoredChunkText>();
  for (let i = 0; i < texts.length; i++) {
    const value = encoded[i];
    // A worker thread's message delivers a Buffer as a plain Uint8Array: a Buffer again (no copy), as stored.
    if (value !== undefined)
      known.set(
        texts[i]!,
        typeof value === "string" ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength),
      );
  }
  const previous = precomputed;
  precomputed = known;
  try {
    return await fn();
  } finally {
    precomputed = previous;
  }
}
