import { mkdir, mkdtemp, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localPathProblem } from "./paths.js";

describe("local source paths", () => {
  it("refuses ConHub's data dir, folders holding it, and links leading into it", async () => {
    const base = await mkdtemp(join(tmpdir(), "conhub-paths-"));
    const dataDir = join(base, "data");
    const repos = join(base, "repos");
    await mkdir(join(dataDir, "auth"), { recursive: true });
    await mkdir(repos, { recursive: true });
    await symlink(dataDir, join(repos, "sneaky"));
    expect(localPathProblem(join(dataDir, "auth"), [], [dataDir])).toMatch(/data directory/);
    expect(localPathProblem(base, [], [dataDir])).toMatch(/data directory/);
    expect(localPathProblem(join(repos, "sneaky"), [], [dataDir])).toMatch(/data directory/);
    expect(localPathProblem(repos, [], [dataDir])).toBeUndefined();
  });

  it("keeps sources inside the allowed roots, also through symbolic links", async () => {
    const base = await mkdtemp(join(tmpdir(), "conhub-paths-"));
    const allowed = join(base, "allowed");
    const other = join(base, "other");
    await mkdir(allowed, { recursive: true });
    await mkdir(other, { recursive: true });
    await symlink(other, join(allowed, "escape"));
    expect(localPathProblem(join(allowed), [allowed])).toBeUndefined();
    expect(localPathProblem(other, [allowed])).toMatch(/DATA_LOCAL_ROOTS/);
    expect(localPathProblem(join(allowed, "escape"), [allowed])).toMatch(/DATA_LOCAL_ROOTS/);
    expect(localPathProblem("relative/path", [])).toMatch(/absolute/);
  });
});
