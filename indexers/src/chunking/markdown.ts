import { type LineIndex, lineWindows, type Span } from "./lines.js";
import { type ChunkingOptions, tokensToChars } from "./options.js";
import type { Piece } from "./tree-sitter.js";

/**
 * Markdown by headings: each heading starts a section that runs to the next
 * heading (of any level), with the heading path as its symbol
 * (`Install > Linux`). Text before the first heading (and YAML front matter)
 * is a section with an empty path. A heading with no text of its own joins
 * the section after it; consecutive small sections under the same top-level
 * heading merge, taking their common path; a large section is split at paragraph boundaries (a fenced code
 * block counts as one paragraph). Headings inside fenced code are ignored.
 */

interface Section {
  startRow: number;
  endRow: number;
  path: string;
  /** Rows of the heading itself (1, or 2 for a setext heading). */
  headingRows: number;
}

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

function sections(index: LineIndex): Section[] {
  const found: Section[] = [];
  const stack: { level: number; title: string }[] = [];
  let fence: string | undefined;
  let row = 0;
  const count = index.count;
  // YAML front matter belongs to the preamble.
  if (count > 0 && index.rowText(0).trimEnd() === "---") {
    for (let r = 1; r < count; r++) {
      const text = index.rowText(r).trimEnd();
      if (text === "---" || text === "...") {
        row = r + 1;
        break;
      }
    }
  }
  const open = (startRow: number, level: number, title: string, headingRows: number) => {
    while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop();
    stack.push({ level, title: title.trim() || "(untitled)" });
    found.push({ startRow, endRow: startRow, path: stack.map((s) => s.title).join(" > "), headingRows });
  };
  let previousIsText = false;
  for (; row < count; row++) {
    const text = index.rowText(row);
    const fenceMatch = FENCE.exec(text);
    if (fence) {
      if (fenceMatch && fenceMatch[1]![0] === fence[0] && fenceMatch[1]!.length >= fence.length)
        fence = undefined;
      previousIsText = false;
      continue;
    }
    if (fenceMatch) {
      fence = fenceMatch[1]!;
      previousIsText = false;
      continue;
    }
    const atx = text.charCodeAt(text.search(/\S|$/)) === 35 ? ATX.exec(text) : null;
    if (atx) {
      open(row, atx[1]!.length, atx[2] ?? "", 1);
      previousIsText = false;
      continue;
    }
    const setext = previousIsText ? SETEXT.exec(text) : null;
    if (setext) {
      open(row - 1, setext[1]![0] === "=" ? 1 : 2, index.rowText(row - 1), 2);
      previousIsText = false;
      continue;
    }
    previousIsText =
      !index.isBlank(row) && !/^ {0,3}([-*+]|\d+[.)])\s/.test(text) && !text.startsWith("    ");
  }
  const result: Section[] = [];
  if (count > 0 && (found.length === 0 || found[0]!.startRow > 0)) {
    result.push({ startRow: 0, endRow: 0, path: "", headingRows: 0 });
  }
  result.push(...found);
  for (let i = 0; i < result.length; i++) {
    const next = result[i + 1];
    result[i]!.endRow = next ? next.startRow - 1 : count - 1;
  }
  return result;
}

function commonPath(a: string, b: string): string {
  const as = a.split(" > ");
  const bs = b.split(" > ");
  const common: string[] = [];
  for (let i = 0; i < Math.min(as.length, bs.length) && as[i] === bs[i]; i++) common.push(as[i]!);
  return common.join(" > ");
}

/** A section's rows cut at blank rows outside fences, at most `maxChars` each. */
function splitParagraphs(index: LineIndex, lo: number, hi: number, maxChars: number): Span[] {
  const spans: Span[] = [];
  let start = lo;
  let lastBreak = -1;
  let fence: string | undefined;
  for (let row = lo; row <= hi; row++) {
    const text = index.rowText(row);
    const fenceMatch = FENCE.exec(text);
    if (fence) {
      if (fenceMatch && fenceMatch[1]![0] === fence[0] && fenceMatch[1]!.length >= fence.length)
        fence = undefined;
    } else if (fenceMatch) {
      fence = fenceMatch[1]!;
    } else if (index.isBlank(row)) {
      lastBreak = row;
    }
    if (index.size(start, row) > maxChars) {
      if (lastBreak > start) {
        spans.push(index.rows(start, lastBreak - 1));
        start = lastBreak + 1;
        lastBreak = -1;
      }
      if (index.size(start, row) > maxChars) {
        spans.push(
          ...lineWindows(index, start, row, { maxLines: Number.MAX_SAFE_INTEGER, maxChars, overlapLines: 0 }),
        );
        start = row + 1;
        lastBreak = -1;
      }
    }
  }
  if (start <= hi) spans.push(index.rows(start, hi));
  return spans;
}

export function chunkMarkdown(index: LineIndex, options: ChunkingOptions): Piece[] {
  const smallChars = tokensToChars(options.smallChunkTokens);
  const maxChars = tokensToChars(options.maxChunkTokens);
  const mergeChars = tokensToChars(options.mergeUpToTokens);
  const merged: Section[] = [];
  let pendingStart = -1;
  let pendingPath = "";
  let runSmall = false;
  for (const section of sections(index)) {
    const rows = index.trim(section.startRow, section.endRow);
    if (!rows) continue;
    // A heading with nothing under it joins the next section.
    if (section.headingRows > 0 && rows[1] - rows[0] + 1 <= section.headingRows) {
      if (pendingStart === -1) {
        pendingStart = rows[0];
        pendingPath = section.path;
      }
      continue;
    }
    const start = pendingStart === -1 ? rows[0] : pendingStart;
    pendingStart = -1;
    const small = index.size(start, rows[1]) < smallChars;
    const last = merged[merged.length - 1];
    const common = last ? commonPath(last.path, section.path) : "";
    if (last && runSmall && small && common !== "" && index.size(last.startRow, rows[1]) <= mergeChars) {
      last.endRow = rows[1];
      last.path = common;
      continue;
    }
    merged.push({ startRow: start, endRow: rows[1], path: section.path, headingRows: section.headingRows });
    runSmall = small;
  }
  if (pendingStart !== -1) {
    const rows = index.trim(pendingStart, index.count - 1)!;
    merged.push({ startRow: rows[0], endRow: rows[1], path: pendingPath, headingRows: 0 });
  }
  const pieces: Piece[] = [];
  for (const section of merged) {
    for (const span of splitParagraphs(index, section.startRow, section.endRow, maxChars)) {
      if (span.from === index.start(span.startRow) && span.to === index.end(span.endRow)) {
        const rows = index.trim(span.startRow, span.endRow);
        if (rows) pieces.push({ ...index.rows(rows[0], rows[1]), kind: "section", path: section.path });
      } else {
        pieces.push({ ...span, kind: "section", path: section.path });
      }
    }
  }
  return pieces;
}
