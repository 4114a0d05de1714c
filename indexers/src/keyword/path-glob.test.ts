import { describe, expect, it } from "vitest";
import { globToRegExp } from "../safety/glob.js";
import { globBounds } from "./path-glob.js";

const PATHS = [
  "clients/src/main/java/Client.java",
  "clients/src/Client.java",
  "clients/src0/x.java",
  "clients/srcx/x.java",
  "clients/test/Client.java",
  "core/src/main/scala/Log.scala",
  "core/src/.java",
  "docs/guide.md",
  "docs/a/b/readme.md",
  "Makefile",
  "tools/Makefile",
  "tools/xMakefile",
  "src/a.ts",
  "src/a.tsx",
  "src/b/a.ts",
  "README.md",
  "é/ü.md",
  "a/b.java.bak",
];

const GLOBS = [
  "clients/src/**",
  "clients/src/",
  "/clients/src/**",
  "**/*.java",
  "*.java",
  "*.md",
  "docs/**/*.md",
  "docs/*.md",
  "src/*.{ts,tsx}",
  "src/a.ts",
  "Makefile",
  "clients/src/**/Client.java",
  "core/s?c/**",
  "[cd]*/**",
  "é/**",
  "**/*.md",
  "**",
  "clients/**/*.java",
];

describe("globBounds", () => {
  it("gives a prefix and a suffix every path the glob matches has, and says when they are the whole glob", () => {
    for (const glob of GLOBS) {
      const re = globToRegExp(glob);
      const { prefix, suffix, exact } = globBounds(glob);
      for (const path of PATHS) {
        const bounded = path.startsWith(prefix) && path.endsWith(suffix);
        if (re.test(path)) expect(bounded, `${glob} ${path}`).toBe(true);
        if (exact) expect(re.test(path), `${glob} ${path}`).toBe(bounded);
      }
    }
  });

  it("takes the literal prefix of an anchored glob and the literal end of any glob", () => {
    expect(globBounds("clients/src/**")).toEqual({ prefix: "clients/src/", suffix: "", exact: true });
    expect(globBounds("**/*.java")).toEqual({ prefix: "", suffix: ".java", exact: true });
    expect(globBounds("*.md")).toEqual({ prefix: "", suffix: ".md", exact: true });
    expect(globBounds("docs/**/*.md")).toEqual({ prefix: "docs/", suffix: ".md", exact: true });
    expect(globBounds("src/*.{ts,tsx}")).toEqual({ prefix: "src/", suffix: "", exact: false });
    expect(globBounds("Makefile")).toEqual({ prefix: "", suffix: "Makefile", exact: false });
    expect(globBounds("clients/src/**/Client.java")).toEqual({
      prefix: "clients/src/",
      suffix: "/Client.java",
      exact: false,
    });
  });
});
