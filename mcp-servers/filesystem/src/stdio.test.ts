import { spawn } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "@conhub/storage/testing";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it, onTestFinished } from "vitest";
import { readToolNames } from "./server.js";
import { makeFixture, textOf } from "./testing.js";

// Structured content is checked field by field; a loose type keeps those assertions short.
// biome-ignore lint/suspicious/noExplicitAny: test-only
type Loose = any;

const repoRoot = new URL("../../../", import.meta.url).pathname;
const conhub = join(repoRoot, "cli/bin/conhub.mjs");

function baseEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "info", ...extra };
}

describe("filesystem MCP server over stdio (conhub fs-mcp)", () => {
  it("serves the SDK's real client: list tools, read, refuse an escape", async () => {
    const base = await tempDir("conhub-fs-stdio-");
    const { root } = await makeFixture(base);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [conhub, "fs-mcp"],
      env: baseEnv({ FILE_SYSTEM_ALLOWED_PATHS: root, CONHUB_DATA_DIR: join(base, "data") }),
      cwd: repoRoot,
      stderr: "pipe",
    });
    const errors: Error[] = [];
    const client = new Client({ name: "conhub-test", version: "1.0.0" });
    client.onerror = (err) => errors.push(err);
    await client.connect(transport);
    onTestFinished(() => client.close());
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...readToolNames].sort());
    const read = await client.callTool({
      name: "read_file",
      arguments: { path: "src/util/strings.ts", startLine: 2, endLine: 2 },
    });
    expect(textOf(read)).toContain("  return text.toUpperCase();\n");
    const found = await client.callTool({
      name: "search_content",
      arguments: { pattern: "shout\\(", regex: true },
    });
    expect((found.structuredContent as { matches: unknown[] }).matches).toHaveLength(2);
    const escaped = await client.callTool({ name: "read_file", arguments: { path: "/etc/passwd" } });
    expect(escaped.isError).toBe(true);
    expect(textOf(escaped)).toContain("outside the allowed roots");
    // A non-JSON line on stdout would have surfaced here as a parse error.
    expect(errors).toEqual([]);
  });

  it("writes nothing but JSON-RPC messages to stdout, logs to stderr, exits when stdin closes", async () => {
    const base = await tempDir("conhub-fs-stdio-");
    const { root } = await makeFixture(base);
    const child = spawn(process.execPath, [conhub, "fs-mcp", "--roots", root], {
      cwd: repoRoot,
      env: baseEnv({ CONHUB_DATA_DIR: join(base, "data") }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const messages = [
      {
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "raw", version: "1" },
        },
      },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      {
        jsonrpc: "2.0",
        id: 3,
        method: "tools/call",
        params: { name: "read_file", arguments: { path: "README.md" } },
      },
      {
        jsonrpc: "2.0",
        id: 4,
        method: "tools/call",
        params: { name: "read_file", arguments: { path: "../x" } },
      },
      {
        jsonrpc: "2.0",
        id: 5,
        method: "tools/call",
        params: { name: "search_content", arguments: { pattern: "x" } },
      },
      { jsonrpc: "2.0", id: 6, method: "no/such/method" },
    ];
    child.stdin.write(`${messages.map((m) => JSON.stringify(m)).join("\n")}\n`);
    child.stdin.end();
    expect(await exited).toBe(0);
    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines.length).toBe(6);
    const parsed = lines.map(
      (l) => JSON.parse(l) as { jsonrpc: string; id: number; result?: Loose; error?: Loose },
    );
    for (const m of parsed) expect(m.jsonrpc).toBe("2.0");
    const byId = new Map(parsed.map((m) => [m.id, m]));
    expect(byId.get(3)!.result.content[0].text).toContain("# Fixture");
    expect(byId.get(4)!.result.isError).toBe(true);
    expect(byId.get(5)!.result.structuredContent.filesSearched).toBeGreaterThan(0);
    expect(byId.get(6)!.error.code).toBe(-32601);
    expect(stderr).toContain("filesystem MCP server on stdio");
  });

  it("reports bad configuration on stderr and exits 2 without touching stdout", async () => {
    const child = spawn(process.execPath, [conhub, "fs-mcp"], {
      cwd: repoRoot,
      env: baseEnv({
        FILE_SYSTEM_ALLOWED_PATHS: "relative/path,/definitely/not/here",
        FILE_SYSTEM_ENABLE_WRITE: "maybe",
      }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("FILE_SYSTEM_ALLOWED_PATHS: every path must be absolute");
    expect(stderr).toContain("FILE_SYSTEM_ENABLE_WRITE: must be true or false");
  });
});
