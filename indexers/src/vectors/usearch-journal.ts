import { crc32 } from "node:zlib";

/**
 * The write-ahead journal of the embedded vector store. A usearch index is
 * saved whole, so saving it at every `flush()` would rewrite a large source
 * again and again while it is being embedded; instead `flush()` appends the
 * changes since the last flush here (and fsyncs), and the index files are
 * rewritten only when the journal has grown (see `usearch.ts`).
 *
 * Record: `u32 payload length | u32 CRC-32 of payload | payload`, little
 * endian. Payload: `u8 op | f64 chunk id`, then for an upsert
 * `u32 source id length | source id (UTF-8) | dimensions × f32`.
 */

const UPSERT = 1;
const DELETE = 2;
const HEADER = 8;

export type JournalOp =
  | { op: "upsert"; chunkId: number; sourceId: string; vector: Float32Array }
  | { op: "delete"; chunkId: number };

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER);
  return out;
}

export function encodeUpsert(chunkId: number, sourceId: string, vector: Float32Array): Buffer {
  const source = Buffer.from(sourceId, "utf8");
  const payload = Buffer.allocUnsafe(1 + 8 + 4 + source.length + vector.byteLength);
  payload.writeUInt8(UPSERT, 0);
  payload.writeDoubleLE(chunkId, 1);
  payload.writeUInt32LE(source.length, 9);
  source.copy(payload, 13);
  Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).copy(payload, 13 + source.length);
  return frame(payload);
}

export function encodeDelete(chunkId: number): Buffer {
  const payload = Buffer.allocUnsafe(9);
  payload.writeUInt8(DELETE, 0);
  payload.writeDoubleLE(chunkId, 1);
  return frame(payload);
}

export interface DecodedJournal {
  ops: JournalOp[];
  /** Bytes of whole, valid records from the start; the file is cut here before appending. */
  validBytes: number;
  /**
   * A bad record followed by more data: not a write cut short by a crash
   * (that can only be the last record) but damage, so the journal cannot be trusted.
   */
  damaged: boolean;
}

function decodePayload(payload: Buffer, dimensions: number): JournalOp | undefined {
  if (payload.length < 9) return undefined;
  const op = payload.readUInt8(0);
  const chunkId = payload.readDoubleLE(1);
  if (!Number.isSafeInteger(chunkId) || chunkId < 0) return undefined;
  if (op === DELETE) return payload.length === 9 ? { op: "delete", chunkId } : undefined;
  if (op !== UPSERT || payload.length < 13) return undefined;
  const sourceLength = payload.readUInt32LE(9);
  if (payload.length !== 13 + sourceLength + dimensions * 4) return undefined;
  const sourceId = payload.toString("utf8", 13, 13 + sourceLength);
  // Copy: the payload's offset need not be 4-byte aligned for a Float32Array view.
  const bytes = payload.subarray(13 + sourceLength);
  const vector = new Float32Array(dimensions);
  Buffer.from(vector.buffer).set(bytes);
  return { op: "upsert", chunkId, sourceId, vector };
}

export function decodeJournal(data: Buffer, dimensions: number): DecodedJournal {
  const ops: JournalOp[] = [];
  let offset = 0;
  while (offset < data.length) {
    const bad = (): DecodedJournal => {
      // Damage if a well-framed record follows; a torn tail otherwise (its length runs to or past the end).
      const length = data.length - offset >= HEADER ? data.readUInt32LE(offset) : Number.POSITIVE_INFINITY;
      const damaged = offset + HEADER + length < data.length;
      return { ops, validBytes: offset, damaged };
    };
    if (data.length - offset < HEADER) return bad();
    const length = data.readUInt32LE(offset);
    const end = offset + HEADER + length;
    if (end > data.length) return bad();
    const payload = data.subarray(offset + HEADER, end);
    if (crc32(payload) !== data.readUInt32LE(offset + 4)) return bad();
    const op = decodePayload(payload, dimensions);
    if (!op) return bad();
    ops.push(op);
    offset = end;
  }
  return { ops, validBytes: offset, damaged: false };
}
