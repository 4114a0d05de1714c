/**
 * Line arithmetic for chunking. Every chunker works in whole lines (rows,
 * 0-based here, 1-based in chunks) so no cut can fall inside a UTF-8
 * character; the only cut inside a line is for a single line longer than a
 * chunk, and it falls on a code-point boundary.
 */

/** A piece of a document: rows `startRow..endRow` (inclusive), text `from..to` (UTF-16 indices). */
export interface Span {
  startRow: number;
  endRow: number;
  from: number;
  to: number;
}

export class LineIndex {
  readonly text: string;
  /** UTF-16 index where each row starts. */
  readonly starts: number[];
  readonly ascii: boolean;
  readonly totalBytes: number;
  /** Where the last row ends: before a final newline. */
  private readonly textEnd: number;
  private byteStarts: number[] | undefined;
  private blanks: Uint8Array | undefined;

  constructor(text: string) {
    this.text = text;
    const starts = [0];
    let at = text.indexOf("\n");
    while (at !== -1) {
      starts.push(at + 1);
      at = text.indexOf("\n", at + 1);
    }
    // A final newline ends the last line; it does not open an empty one.
    if (starts.length > 1 && starts[starts.length - 1] === text.length) starts.pop();
    this.starts = starts;
    this.textEnd = text.endsWith("\n") ? text.length - 1 : text.length;
    this.totalBytes = Buffer.byteLength(text, "utf8");
    this.ascii = this.totalBytes === text.length;
  }

  get count(): number {
    return this.text.length === 0 ? 0 : this.starts.length;
  }

  /** UTF-16 index of the first character of a row. */
  start(row: number): number {
    return this.starts[row]!;
  }

  /** UTF-16 index just after the last character of a row (before its `\n`). */
  end(row: number): number {
    const next = this.starts[row + 1];
    return next === undefined ? this.textEnd : next - 1;
  }

  rowText(row: number): string {
    return this.text.slice(this.start(row), this.end(row));
  }

  /** UTF-16 length of rows `lo..hi`, newlines included between them. */
  size(lo: number, hi: number): number {
    return this.end(hi) - this.start(lo);
  }

  isBlank(row: number): boolean {
    if (!this.blanks) {
      const blanks = new Uint8Array(this.starts.length);
      const text = this.text;
      for (let r = 0; r < blanks.length; r++) {
        let blank = 1;
        const end = this.end(r);
        for (let i = this.starts[r]!; i < end; i++) {
          const c = text.charCodeAt(i);
          if (c !== 32 && c !== 9 && c !== 13 && c !== 12 && c !== 11) {
            blank = 0;
            break;
          }
        }
        blanks[r] = blank;
      }
      this.blanks = blanks;
    }
    return this.blanks[row] === 1;
  }

  /** UTF-8 byte offset of a UTF-16 index lying in `row`. */
  byteOffset(row: number, index: number): number {
    if (this.ascii) return index;
    if (!this.byteStarts) {
      const byteStarts = new Array<number>(this.starts.length);
      let bytes = 0;
      byteStarts[0] = 0;
      for (let r = 1; r < this.starts.length; r++) {
        bytes += Buffer.byteLength(this.text.slice(this.starts[r - 1]!, this.starts[r]!), "utf8");
        byteStarts[r] = bytes;
      }
      this.byteStarts = byteStarts;
    }
    const rowStart = this.starts[row]!;
    const base = this.byteStarts[row]!;
    return index === rowStart ? base : base + Buffer.byteLength(this.text.slice(rowStart, index), "utf8");
  }

  /** The span of whole rows `lo..hi`. */
  rows(lo: number, hi: number): Span {
    return { startRow: lo, endRow: hi, from: this.start(lo), to: this.end(hi) };
  }

  /** Rows `lo..hi` without the blank rows at either end, or undefined when all are blank. */
  trim(lo: number, hi: number): [number, number] | undefined {
    while (lo <= hi && this.isBlank(lo)) lo++;
    while (hi >= lo && this.isBlank(hi)) hi--;
    return lo <= hi ? [lo, hi] : undefined;
  }
}

export interface WindowOptions {
  /** Most rows in one window. */
  maxLines: number;
  /** Most UTF-16 units in one window (a single longer line is cut inside). */
  maxChars: number;
  /** Rows repeated at the start of the next window. */
  overlapLines: number;
}

/**
 * Rows `lo..hi` as windows of at most `maxLines` rows and `maxChars`
 * characters, each starting and ending on a non-blank row, consecutive
 * windows sharing `overlapLines` rows. A row longer than `maxChars` is cut
 * into pieces on its own.
 */
export function lineWindows(index: LineIndex, lo: number, hi: number, options: WindowOptions): Span[] {
  const spans: Span[] = [];
  let row = lo;
  while (row <= hi) {
    while (row <= hi && index.isBlank(row)) row++;
    if (row > hi) break;
    if (index.size(row, row) > options.maxChars) {
      spans.push(...splitLongRow(index, row, options.maxChars));
      row++;
      continue;
    }
    let end = row;
    while (
      end < hi &&
      end + 1 - row < options.maxLines &&
      index.size(row, end + 1) <= options.maxChars &&
      index.size(end + 1, end + 1) <= options.maxChars
    ) {
      end++;
    }
    const trimmed = index.trim(row, end)!;
    spans.push(index.rows(trimmed[0], trimmed[1]));
    if (end >= hi) break;
    const overlap = Math.min(options.overlapLines, end - row);
    row = Math.max(end + 1 - overlap, row + 1);
  }
  return spans;
}

/** One row cut into pieces of at most `maxChars`, preferring whitespace and never splitting a surrogate pair. */
export function splitLongRow(index: LineIndex, row: number, maxChars: number): Span[] {
  const spans: Span[] = [];
  const text = index.text;
  const end = index.end(row);
  let from = index.start(row);
  while (from < end) {
    let to = Math.min(from + maxChars, end);
    if (to < end) {
      const space = text.lastIndexOf(" ", to);
      if (space > from + maxChars / 2) to = space + 1;
      const code = text.charCodeAt(to - 1);
      if (code >= 0xd800 && code <= 0xdbff) to--;
    }
    spans.push({ startRow: row, endRow: row, from, to });
    from = to;
  }
  return spans;
}
