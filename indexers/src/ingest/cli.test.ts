import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFixtureTree } from "../keyword/fixture-tree.test-support.js";

// End to end through the real `conhub` binary, on the embedded stack with no server.
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "cli/bin/conhub.mjs");
const run = promisify(execFile);

async function conhub(args: string[]) {
  const env = { ...process.env };
  delete env.CONHUB_DATA_DIR;
  delete env.NODE_OPTIONS;
  return run(process.execPath, [bin, ...args], { cwd: repoRoot, env, maxBuffer: 8 * 1024 * 1024 });
}

describe("conhub index / search / grep / symbols", () => {
  let root: string;
  let dataDir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "conhub-cli-tree-"));
    dataDir = await mkdtemp(join(tmpdir(), "conhub-cli-data-"));
    await writeFixtureTree(root);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it("indexes a directory, then answers searches with paths relative to it", async () => {
    const indexed = await conhub(["index", root, "--data-dir", dataDir]);
    expect(indexed.stdout).toContain("indexed    7");
    expect(indexed.stdout).toMatch(/skipped\s+excluded 1, lockfile 1/);
    expect(indexed.stdout).toContain("aws-access-key-id 1");
    expect(indexed.stderr).toMatch(/indexing \d+%\s+\d+\/\d+ files/);

    const searched = await conhub([
      "search",
      "parse http response",
      "--json",
      "--limit",
      "3",
      "--data-dir",
      dataDir,
    ]);
    const parsed = JSON.parse(searched.stdout) as { results: Array<Record<string, unknown>> };
    expect(Object.keys(parsed)).toEqual(["results"]);
    expect(parsed.results.length).toBeGreaterThan(0);
    expect(parsed.results.length).toBeLessThanOrEqual(3);
    for (const r of parsed.results) {
      expect(Object.keys(r)).toEqual(["path", "startLine", "endLine", "symbol", "score", "snippet"]);
      expect(r.path).not.toMatch(/^\//);
      expect(typeof r.score).toBe("number");
    }
    expect(parsed.results[0]).toMatchObject({
      path: "src/http/client.ts",
      symbol: "function parseHttpResponse",
    });

    const text = await conhub(["search", "kebab", "--data-dir", dataDir]);
    expect(text.stdout).toContain("src/util/strings.ts:1-");
    expect(text.stdout).toContain("to[Kebab]Case");

    const grep = await conhub(["grep", String.raw`def \w+_token`, "--data-dir", dataDir]);
    expect(grep.stdout.trim()).toBe(
      "src/auth/tokens.py:11:     [def refresh_access_token](self, account_id):",
    );

    const symbols = await conhub(["symbols", "TokenStore", "--json", "--data-dir", dataDir]);
    expect(JSON.parse(symbols.stdout).results).toEqual([
      expect.objectContaining({
        name: "TokenStore",
        kind: "class",
        path: "src/auth/tokens.py",
        startLine: 4,
      }),
    ]);
    // Five `conhub` processes, each starting Node and the TypeScript loader: on a 2-core machine
    // shared with other work that alone has taken over a minute.
  }, 180_000);
});
