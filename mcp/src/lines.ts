import type { DocumentChunk } from "./backend/port.js";

/**
 * A stored document's lines, rebuilt from its chunks. The indexer keeps
 * chunks, not files: together they cover every non-blank line, by line
 * numbers; line-window chunks overlap. Each line is taken from the first
 * chunk that covers it; lines no chunk covers were blank. Trailing blank
 * lines of the original are not known and not returned.
 */
export function documentLines(chunks: readonly DocumentChunk[]): string[] {
  let total = 0;
  for (const chunk of chunks) total = Math.max(total, chunk.endLine);
  const lines = new Array<string | undefined>(total).fill(undefined);
  for (const chunk of chunks) {
    const span = chunk.endLine - chunk.startLine + 1;
    // A chunk's text runs from the start of its first line to the end of its last, without the final newline.
    const own = chunk.text.split("\n").slice(0, span);
    own.forEach((line, i) => {
      const at = chunk.startLine - 1 + i;
      if (lines[at] === undefined) lines[at] = line;
    });
  }
  return lines.map((l) => l ?? "");
}

export interface LineWindow {
  /** The lines, each ending with a newline. */
  text: string;
  startLine: number;
  /** Last line included (startLine - 1 when none was). */
  endLine: number;
  /** Where to continue, or null when the requested range or the document ended. */
  nextStartLine: number | null;
  /** Stopped because of `maxChars` rather than the range. */
  charLimited: boolean;
}

/**
 * Lines `startLine..endLine` (1-based, inclusive), at most `maxLines` and
 * about `maxChars` characters (always at least one line), cut only at line ends.
 */
export function lineWindow(
  lines: readonly string[],
  startLine: number,
  endLine: number,
  maxLines: number,
  maxChars: number,
): LineWindow {
  const last = Math.min(endLine, lines.length, startLine + maxLines - 1);
  let text = "";
  let line = startLine;
  let charLimited = false;
  for (; line <= last; line++) {
    const piece = `${lines[line - 1]}\n`;
    if (line > startLine && text.length + piece.length > maxChars) {
      charLimited = true;
      break;
    }
    text += piece;
  }
  const included = line - 1;
  const wanted = Math.min(endLine, lines.length);
  return {
    text,
    startLine,
    endLine: included,
    nextStartLine: included < wanted ? included + 1 : null,
    charLimited,
  };
}
