/** Bytes inspected to tell text from binary (as git and grep do: a NUL byte means binary). */
export const sniffBytes = 8192;

export type Encoding = "utf-8" | "binary" | "utf-16";

/** Classifies the start of a file: UTF-8 text (ASCII included), UTF-16 (by BOM), or binary. */
export function sniff(sample: Uint8Array): Encoding {
  if (sample.length >= 2) {
    const [a, b] = [sample[0], sample[1]];
    if ((a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff)) return "utf-16";
  }
  if (sample.includes(0)) return "binary";
  // A sample may end inside a multi-byte character: judge only the complete ones.
  const end = utf8Boundary(sample, sample.length);
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample.subarray(0, end));
    return "utf-8";
  } catch {
    return "binary";
  }
}

/**
 * The largest index ≤ `limit` that does not split a UTF-8 character: cutting
 * `bytes` there leaves only whole characters before it.
 */
export function utf8Boundary(bytes: Uint8Array, limit: number): number {
  let i = Math.min(limit, bytes.length);
  if (i === bytes.length) {
    // Whole buffer: only a trailing incomplete sequence needs trimming.
    let lead = i - 1;
    let continuation = 0;
    while (lead >= 0 && continuation < 3 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) {
      lead -= 1;
      continuation += 1;
    }
    if (lead < 0) return i;
    const b = bytes[lead] ?? 0;
    const needed = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : b >= 0xc0 ? 1 : 0;
    return needed > continuation ? lead : i;
  }
  while (i > 0 && ((bytes[i] ?? 0) & 0xc0) === 0x80) i -= 1;
  return i;
}

const units = ["B", "KB", "MB", "GB", "TB"];

export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** One line of output at most `max` characters, keeping `column` (0-based) in view. */
export function clipLine(line: string, max: number, column = 0): string {
  if (line.length <= max) return line;
  const start = Math.max(0, Math.min(column - Math.floor(max / 4), line.length - max));
  const head = start > 0 ? "…" : "";
  const tail = start + max < line.length ? "…" : "";
  return `${head}${line.slice(start, start + max)}${tail}`;
}
