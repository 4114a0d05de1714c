import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { walkTree } from "./walk.js";

const roots: string[] = [];
afterEach(async () => {
  await Promise.all(roots.splice(0).map((r) => rm(r, { recursive: true, force: true })));
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "conhub-walk-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const paths = async (root: string, options?: Parameters<typeof walkTree>[1]) =>
  (await walkTree(root, options)).map((f) => f.path);

describe("walkTree", () => {
  it("applies each directory's .gitignore to the paths below it only, deeper rules winning", async () => {
    const root = await tree({
      ".gitignore": "*.log\n/out/\n",
      "a.log": "",
      "keep.ts": "",
      "out/x.ts": "",
      "pkg/out/y.ts": "", // `/out/` is anchored to the root: pkg/out stays.
      "pkg/.gitignore": "generated/\n!important.log\n/local.ts\n",
      "pkg/important.log": "", // re-included by the deeper file
      "pkg/other.log": "",
      "pkg/local.ts": "", // anchored to pkg/
      "pkg/sub/local.ts": "",
      "pkg/generated/z.ts": "",
      "pkg/sub/generated/w.ts": "", // unanchored directory pattern: any depth below pkg
      "other/generated/v.ts": "", // pkg's rules do not reach a sibling
      "other/important.log": "",
    });
    expect(await paths(root)).toEqual([
      ".gitignore",
      "keep.ts",
      "other/generated/v.ts",
      "pkg/.gitignore",
      "pkg/important.log",
      "pkg/out/y.ts",
      "pkg/sub/local.ts",
    ]);
  });

  it("reads .git/info/exclude, takes extra patterns, and prunes vendored directories", async () => {
    const root = await tree({
      ".git/info/exclude": "secret-notes.md\n",
      ".git/HEAD": "ref: refs/heads/main\n",
      "secret-notes.md": "",
      "notes.md": "",
      "tmp/scratch.ts": "",
      "node_modules/dep/index.js": "",
      "src/node_modules/dep/index.js": "",
      "src/a.ts": "",
    });
    expect(await paths(root, { ignore: ["tmp/"], vendored: new Set(["node_modules", ".git"]) })).toEqual([
      "notes.md",
      "src/a.ts",
    ]);
  });

  it("cannot re-include a file whose directory is ignored (as git), and does not follow symbolic links", async () => {
    const root = await tree({
      ".gitignore": "build/\n!build/keep.ts\n",
      "build/keep.ts": "",
      "src/a.ts": "",
    });
    await symlink(join(root, "src"), join(root, "link"));
    expect(await paths(root)).toEqual([".gitignore", "src/a.ts"]);
  });

  it("returns sizes and whole-millisecond modification times, sorted by path bytes", async () => {
    const root = await tree({ "a-c.ts": "12345", "a/b.ts": "1" });
    const files = await walkTree(root);
    expect(files.map((f) => [f.path, f.size])).toEqual([
      ["a-c.ts", 5],
      ["a/b.ts", 1],
    ]);
    for (const f of files) expect(Number.isInteger(f.mtimeMs)).toBe(true);
  });
});
