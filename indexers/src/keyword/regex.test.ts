import { describe, expect, it } from "vitest";
import { compileGrepPattern } from "./regex.js";

function ranges(pattern: string, line: string, ignoreCase = false) {
  const compiled = compileGrepPattern(pattern, ignoreCase);
  if (!compiled.ok) throw new Error(compiled.reason);
  return compiled.matcher.matches(line).map(([s, e]) => line.slice(s, e));
}

describe("grep patterns on RE2", () => {
  it("finds every match with UTF-16 offsets, also after astral characters", () => {
    expect(ranges("fo+", "foo fooo fo")).toEqual(["foo", "fooo", "fo"]);
    expect(ranges("bé+", "ñ😀 bééé x 😀😀béé")).toEqual(["bééé", "béé"]);
    expect(ranges("FOO", "foo Foo", true)).toEqual(["foo", "Foo"]);
  });

  it("prefilters multi-line text with ^ and $ at line boundaries", () => {
    const compiled = compileGrepPattern("^def main$");
    expect(compiled.ok && compiled.matcher.test("import os\ndef main\n")).toBe(true);
  });

  it("terminates on empty matches", () => {
    expect(ranges("x*", "ab")).toEqual(["", "", ""]);
    expect(ranges("^", "😀a")).toEqual([""]);
  });

  it("runs a pattern that is catastrophic for a backtracking engine in linear time", () => {
    const compiled = compileGrepPattern("(a+)+$");
    expect(compiled.ok).toBe(true);
    if (!compiled.ok) return;
    // A backtracking engine needs ~2^40 steps here; RE2 answers at once (the test would time out otherwise).
    expect(compiled.matcher.matches(`${"a".repeat(40)}!`)).toEqual([]);
    expect(compiled.matcher.test(`${"a".repeat(40)}!`)).toBe(false);
  });

  it("explains patterns RE2 does not support", () => {
    const look = compileGrepPattern("(?<=a)b");
    expect(look.ok).toBe(false);
    if (!look.ok) expect(look.reason).toMatch(/RE2 syntax: no backreferences or lookaround/);
    expect(compileGrepPattern("(unclosed").ok).toBe(false);
  });
});
