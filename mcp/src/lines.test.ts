import { describe, expect, it } from "vitest";
import type { DocumentChunk } from "./backend/port.js";
import { documentLines, lineWindow } from "./lines.js";

const chunk = (startLine: number, endLine: number, text: string): DocumentChunk => ({
  startLine,
  endLine,
  kind: "lines",
  symbol: "",
  text,
});

describe("documentLines", () => {
  it("rebuilds a file from chunks: overlaps taken once, uncovered lines blank", () => {
    const chunks = [chunk(1, 3, "a\nb\nc"), chunk(3, 5, "c\nd\ne"), chunk(8, 8, "h")];
    expect(documentLines(chunks)).toEqual(["a", "b", "c", "d", "e", "", "", "h"]);
  });

  it("ignores a trailing newline in a chunk's text and keeps chunk order irrelevant", () => {
    expect(documentLines([chunk(3, 3, "z\n"), chunk(1, 2, "x\ny\n")])).toEqual(["x", "y", "z"]);
    expect(documentLines([])).toEqual([]);
  });
});

describe("lineWindow", () => {
  const lines = Array.from({ length: 10 }, (_, i) => `line ${i + 1}`);

  it("returns the range with a newline after each line, and where to continue", () => {
    expect(lineWindow(lines, 3, 5, 100, 10_000)).toEqual({
      text: "line 3\nline 4\nline 5\n",
      startLine: 3,
      endLine: 5,
      nextStartLine: null,
      charLimited: false,
    });
    expect(lineWindow(lines, 1, 10, 4, 10_000)).toMatchObject({ endLine: 4, nextStartLine: 5 });
    expect(lineWindow(lines, 9, 100, 400, 10_000)).toMatchObject({ endLine: 10, nextStartLine: null });
  });

  it("stops at the character budget on a line boundary, but always gives one line", () => {
    expect(lineWindow(lines, 1, 10, 100, 15)).toMatchObject({
      text: "line 1\nline 2\n",
      endLine: 2,
      nextStartLine: 3,
      charLimited: true,
    });
    expect(lineWindow(["x".repeat(50)], 1, 1, 10, 5)).toMatchObject({ endLine: 1, nextStartLine: null });
  });
});
