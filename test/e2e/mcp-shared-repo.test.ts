import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { portEnv, repoRoot, tempDir } from "../support/processes.js";
import { callTool, firstText, indexDocuments, mcpClient, signUp } from "./mcp-support.js";

/**
 * End to end on a real repository: a copy of this repository's `shared/`
 * folder is indexed through the indexer's API, then an MCP client asks in
 * plain words and must get the function that answers, and `read` must give
 * back exactly that function's lines.
 */

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(path);
    }
  };
  walk(root);
  return out.sort();
}

const questions = [
  {
    question: "check that the caller has the required scopes",
    file: "middleware/src/auth/authenticate.ts",
    definition: "export function requireScope(",
  },
  {
    question: "which organization does the caller act for",
    file: "middleware/src/auth/authenticate.ts",
    definition: "export function callerOrganization",
  },
  {
    question: "how is the bearer token taken out of the Authorization header",
    file: "middleware/src/auth/authenticate.ts",
    definition: "export function bearerToken(",
  },
];

describe("MCP end to end on a real repository (a copy of shared/)", () => {
  let platform: Platform;
  let mcpUrl: string;
  let key: string;
  let copy: string;

  beforeAll(async () => {
    const base = tempDir("conhub-mcp-repo-");
    copy = join(base, "shared");
    cpSync(join(repoRoot, "shared"), copy, {
      recursive: true,
      filter: (src) => !src.split("/").includes("node_modules"),
    });
    const { env } = await portEnv();
    platform = await startPlatform({
      targets: ["auth-service", "indexer", "mcp-service"],
      gateway: true,
      env: { ...env, CONHUB_DATA_DIR: join(base, "data"), LOG_LEVEL: "error", CONHUB_EMBEDDINGS: "none" },
    });
    const gateway = `http://127.0.0.1:${platform.ports.gateway}`;
    mcpUrl = `${gateway}/mcp`;
    ({ key } = await signUp(gateway, `dev-${Date.now()}@example.com`));
    const upserts = files(copy).map((path) => ({
      path: relative(copy, path),
      content: readFileSync(path, "utf8"),
    }));
    expect(upserts.length).toBeGreaterThan(30);
    await indexDocuments(
      gateway,
      key,
      { sourceId: "conhub-shared", sourceRoot: "github.com/conhub/shared" },
      upserts,
    );
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it.each(questions)(
    "search “$question” finds $definition, and read returns its exact lines",
    async ({ question, file, definition }) => {
      const client = await mcpClient(mcpUrl, key);
      const found = await callTool(client, "search", { query: question, limit: 5 });
      expect(found.isError).toBe(false);
      const hits = found.data.results as Array<{
        uri: string;
        path: string;
        startLine: number;
        endLine: number;
      }>;
      const original = readFileSync(join(copy, file), "utf8").split("\n");
      const definitionLine = original.findIndex((l) => l.startsWith(definition)) + 1;
      expect(definitionLine).toBeGreaterThan(0);
      // The answer is among the first three results: the chunk of that file holding the definition.
      const rank = hits.findIndex(
        (h) => h.path === file && h.startLine <= definitionLine && definitionLine <= h.endLine,
      );
      expect(rank, found.text).toBeGreaterThanOrEqual(0);
      expect(rank, found.text).toBeLessThan(3);
      const hit = hits[rank]!;
      const read = await callTool(client, "read", {
        uri: hit.uri,
        startLine: hit.startLine,
        endLine: hit.endLine,
      });
      expect(read.isError).toBe(false);
      expect(firstText(read.result)).toBe(`${original.slice(hit.startLine - 1, hit.endLine).join("\n")}\n`);
      expect(firstText(read.result)).toContain(definition);
    },
  );

  it("read returns a whole file exactly as it is on disk", async () => {
    const client = await mcpClient(mcpUrl, key);
    for (const file of [
      "middleware/src/auth/authenticate.ts",
      "middleware/src/service-fetch.ts",
      "config/src/targets.ts",
    ]) {
      const text = readFileSync(join(copy, file), "utf8");
      const read = await callTool(client, "read", { sourceId: "conhub-shared", path: file, maxLines: 2000 });
      expect(firstText(read.result), file).toBe(text);
    }
  });
});
