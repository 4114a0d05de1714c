import { describe, expect, it } from "vitest";
import { compileGlob } from "./glob.js";

const matches = (pattern: string, rel: string) => compileGlob(pattern).test(rel, rel.split("/").at(-1)!);

describe("compileGlob", () => {
  it.each([
    ["*.ts", "src/a.ts", true],
    ["*.ts", "src/a.tsx", false],
    ["src/**/*.ts", "src/a.ts", true],
    ["src/**/*.ts", "src/x/y/a.ts", true],
    ["src/**/*.ts", "lib/a.ts", false],
    ["src/*.ts", "src/x/a.ts", false],
    ["**/test/**", "a/test/b/c.ts", true],
    ["*.{js,ts}", "a/b.js", true],
    ["test_?.py", "test_1.py", true],
    ["[!a]*.md", "b.md", true],
    ["[!a]*.md", "a.md", false],
    ["node_modules", "x/node_modules", true],
    ["a.b", "aXb", false],
    ["(x)+", "(x)+", true],
  ])("%s vs %s → %s", (pattern, rel, expected) => {
    expect(matches(pattern, rel)).toBe(expected);
  });

  it("can ignore case", () => {
    expect(compileGlob("*.MD", { caseInsensitive: true }).test("README.md", "README.md")).toBe(true);
  });
});
