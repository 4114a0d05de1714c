import { describe, expect, it } from "vitest";
import { clipLine, formatBytes, sniff, utf8Boundary } from "./text.js";

describe("utf8Boundary", () => {
  const bytes = Buffer.from("a€𝄞b"); // 1 + 3 + 4 + 1 bytes
  it("never splits a character", () => {
    for (let limit = 0; limit <= bytes.length; limit += 1) {
      const cut = utf8Boundary(bytes, limit);
      expect(cut).toBeLessThanOrEqual(limit);
      expect(Buffer.from(bytes.subarray(0, cut).toString("utf8")).length).toBe(cut);
    }
    expect(utf8Boundary(bytes, 3)).toBe(1);
    expect(utf8Boundary(bytes, 8)).toBe(8);
  });
  it("trims an incomplete character at the end of a whole buffer", () => {
    expect(utf8Boundary(bytes.subarray(0, 6), 6)).toBe(4);
    expect(utf8Boundary(bytes.subarray(0, 8), 8)).toBe(8);
  });
});

describe("sniff", () => {
  it("tells text, binary and UTF-16 apart", () => {
    expect(sniff(Buffer.from("plain ascii\n"))).toBe("utf-8");
    expect(sniff(Buffer.from("héllo").subarray(0, 2))).toBe("utf-8"); // cut inside é
    expect(sniff(Buffer.from([0x68, 0x00, 0x69]))).toBe("binary");
    expect(sniff(Buffer.from([0xff, 0xfe, 0x68, 0x00]))).toBe("utf-16");
    expect(sniff(Buffer.from([0xc3, 0x28, 0x41]))).toBe("binary"); // invalid UTF-8 (Latin-1 etc.)
  });
});

describe("formatting", () => {
  it("formats sizes and clips long lines around a column", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    const line = `${"a".repeat(500)}MATCH${"b".repeat(500)}`;
    const clipped = clipLine(line, 100, 500);
    expect(clipped).toContain("MATCH");
    expect(clipped.startsWith("…")).toBe(true);
    expect(clipped.endsWith("…")).toBe(true);
  });
});
