import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import {
  cleanEnv,
  conhubBin,
  freePorts,
  portEnv,
  repoRoot,
  spawnConhub,
  tempDir,
} from "../support/processes.js";
import { type Caller, callTool, firstText, indexDocuments, signUp } from "./mcp-support.js";

/**
 * `conhub mcp` as an agent starts it: the SDK's real stdio client spawns the
 * command; it serves a running ConHub (with an API key) or, when none
 * answers, the local index of the data dir. stdout carries nothing but
 * JSON-RPC.
 */

// Structured content is checked field by field; a loose type keeps those assertions short.
// biome-ignore lint/suspicious/noExplicitAny: test-only
type Loose = any;

const MATH_TS = `/** Adds two numbers, rounding to cents. */
export function addAmounts(a: number, b: number): number {
  return Math.round((a + b) * 100) / 100;
}

/** Splits a bill evenly between people. */
export function splitBill(total: number, people: number): number[] {
  return Array.from({ length: people }, () => total / people);
}
`;
const SERVICE_TS = `export function chargeCustomer(id: string) {\n  return \`charged \${id}\`;\n}\n`;

async function stdioClient(
  args: string[],
  env: Record<string, string>,
): Promise<{ client: Client; errors: Error[] }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [conhubBin, "mcp", ...args],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", LOG_LEVEL: "info", ...env },
    cwd: repoRoot,
    stderr: "pipe",
  });
  const errors: Error[] = [];
  const client = new Client({ name: "conhub-stdio-test", version: "1.0.0" });
  // A line on stdout that is not JSON-RPC surfaces here as a parse error.
  client.onerror = (err) => errors.push(err);
  await client.connect(transport);
  onTestFinished(() => client.close());
  return { client, errors };
}

async function closedPortUrl(): Promise<string> {
  const [port] = await freePorts(1);
  return `http://127.0.0.1:${port}`;
}

// Each test starts `conhub` (TypeScript loaded by tsx): seconds on a busy machine.
describe("conhub mcp (stdio)", { timeout: 240_000 }, () => {
  let platform: Platform;
  let gateway: string;
  let dataDir: string;
  let alice: Caller;
  let bob: Caller;
  let localTree: string;

  beforeAll(async () => {
    const { env } = await portEnv();
    const base = tempDir("conhub-mcp-stdio-");
    dataDir = join(base, "data");
    const files = join(base, "files");
    mkdirSync(files);
    writeFileSync(join(files, "todo.txt"), "buy milk\n");
    platform = await startPlatform({
      targets: ["auth-service", "indexer", "mcp-service", "filesystem"],
      gateway: true,
      env: {
        ...env,
        CONHUB_DATA_DIR: dataDir,
        LOG_LEVEL: "error",
        CONHUB_EMBEDDINGS: "none",
        FILE_SYSTEM_ALLOWED_PATHS: files,
      },
    });
    gateway = `http://127.0.0.1:${platform.ports.gateway}`;
    alice = await signUp(gateway, `alice-${Date.now()}@example.com`);
    bob = await signUp(gateway, `bob-${Date.now()}@example.com`);
    await indexDocuments(gateway, alice.key, { sourceId: "payments" }, [
      { path: "src/service.ts", content: SERVICE_TS },
    ]);
    await indexDocuments(gateway, bob.key, { sourceId: "bob-notes" }, [
      { path: "notes.md", content: "# Notes\n\nThe chargeCustomer rewrite is secret.\n" },
    ]);
    // A local index in the same data dir (organization `local`), as `conhub index` makes it.
    localTree = join(base, "local-repo");
    mkdirSync(join(localTree, "src"), { recursive: true });
    writeFileSync(join(localTree, "src", "math.ts"), MATH_TS);
    writeFileSync(join(localTree, "README.md"), "# Local repo\n\nBill splitting helpers.\n");
    const indexed = spawnConhub(
      ["index", localTree],
      cleanEnv({ CONHUB_DATA_DIR: dataDir, CONHUB_EMBEDDINGS: "none" }),
    );
    expect(await indexed.exited, indexed.stderr()).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("serves a running ConHub with an API key: tools, resources and prompts of the key's organization", async () => {
    const { client, errors } = await stdioClient([], { CONHUB_URL: gateway, CONHUB_API_KEY: alice.key });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "search",
      "read",
      "grep",
      "find_symbol",
      "list_sources",
      "list_documents",
      "ask",
    ]);
    expect(client.getInstructions()).toContain("the ConHub indexer, as the caller");
    const found = await callTool(client, "search", { query: "chargeCustomer", mode: "keyword" });
    expect(found.data.results.map((r: Loose) => r.uri)).toEqual(["conhub://payments/src/service.ts"]);
    const read = await callTool(client, "read", { uri: "conhub://payments/src/service.ts" });
    expect(firstText(read.result)).toBe(SERVICE_TS);
    expect((await callTool(client, "list_sources")).data.sources.map((s: Loose) => s.id)).toEqual([
      "payments",
    ]);
    expect((await callTool(client, "grep", { pattern: "secret" })).data.hits).toEqual([]);
    expect((await callTool(client, "read", { uri: "conhub://bob-notes/notes.md" })).isError).toBe(true);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(["conhub://payments/src/service.ts"]);
    await expect(client.readResource({ uri: "conhub://bob-notes/notes.md" })).rejects.toMatchObject({
      code: -32002,
    });
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(["agent_rules", "research"]);
    expect(errors).toEqual([]);
  });

  it("passes the running ConHub's fs_* tools through for an admin credential", async () => {
    const { client } = await stdioClient([], { CONHUB_URL: gateway, CONHUB_API_KEY: alice.jwt });
    const { tools } = await client.listTools();
    expect(tools.filter((t) => t.name.startsWith("fs_")).length).toBe(7);
    const read = await callTool(client, "fs_read_file", { path: "todo.txt" });
    expect(read.text).toContain("buy milk");
  });

  it("serves the local index (organization local) when no ConHub answers", async () => {
    const { client, errors } = await stdioClient([], {
      CONHUB_URL: await closedPortUrl(),
      CONHUB_DATA_DIR: dataDir,
      CONHUB_EMBEDDINGS: "none",
    });
    expect(client.getInstructions()).toContain("the local index");
    const sources = await callTool(client, "list_sources");
    // Only what `conhub index` stored: the organizations' sources in the same database stay out.
    expect(sources.data.sources).toHaveLength(1);
    const source = sources.data.sources[0];
    expect(source.root).toBe(localTree);
    expect(source.id).toMatch(/^local:[0-9a-f]{16}$/);
    const found = await callTool(client, "search", { query: "split a bill between people" });
    // A file this small is one chunk (its two functions merged).
    expect(found.data.results[0]).toMatchObject({ path: "src/math.ts", startLine: 1, endLine: 9 });
    const uri = found.data.results[0].uri as string;
    expect(uri).toBe(`conhub://${encodeURIComponent(source.id)}/src/math.ts`);
    const read = await callTool(client, "read", { uri, startLine: 6, endLine: 9 });
    expect(firstText(read.result)).toBe(`${MATH_TS.split("\n").slice(5, 9).join("\n")}\n`);
    // The unencoded form a model may type works too.
    const typed = await callTool(client, "read", { uri: `conhub://${source.id}/README.md` });
    expect(firstText(typed.result)).toBe("# Local repo\n\nBill splitting helpers.\n");
    expect((await callTool(client, "find_symbol", { name: "addAmounts" })).data.symbols).toHaveLength(1);
    expect((await callTool(client, "grep", { pattern: "Math\\.round" })).data.hits).toHaveLength(1);
    expect(
      (await callTool(client, "search", { query: "chargeCustomer", mode: "keyword" })).data.results,
    ).toEqual([]);
    expect((await callTool(client, "grep", { pattern: "chargeCustomer" })).data.hits).toEqual([]);
    expect((await callTool(client, "read", { uri: "conhub://payments/src/service.ts" })).isError).toBe(true);
    expect((await callTool(client, "list_documents", { sourceId: "payments" })).isError).toBe(true);
    const asked = await callTool(client, "ask", { question: "How are bills split?" });
    expect(asked.data.passages.map((p: Loose) => p.path)).toContain("src/math.ts");
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      `conhub://${encodeURIComponent(source.id)}/README.md`,
      `conhub://${encodeURIComponent(source.id)}/src/math.ts`,
    ]);
    const resource = await client.readResource({
      uri: resources.find((r) => r.uri.endsWith("math.ts"))!.uri,
    });
    expect(resource.contents[0]).toMatchObject({ text: MATH_TS });
    await expect(client.readResource({ uri: "conhub://payments/src/service.ts" })).rejects.toMatchObject({
      code: -32002,
    });
    const invalid = await callTool(client, "grep", { pattern: "(?<=x)y" });
    expect(invalid.isError).toBe(true);
    expect(invalid.text).toContain("RE2");
    expect(errors).toEqual([]);
  });

  it("writes nothing but JSON-RPC to stdout (logs go to stderr) and exits when stdin closes", async () => {
    const child = spawn(process.execPath, [conhubBin, "mcp", "--embedded"], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        LOG_LEVEL: "debug",
        CONHUB_DATA_DIR: dataDir,
        CONHUB_EMBEDDINGS: "none",
      },
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
        params: { name: "search", arguments: { query: "splitBill" } },
      },
      { jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "read", arguments: { uri: "nope" } } },
      { jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "teleport", arguments: {} } },
      { jsonrpc: "2.0", id: 6, method: "resources/read", params: { uri: "conhub://x/y" } },
      { jsonrpc: "2.0", id: 7, method: "no/such/method" },
    ];
    child.stdin.write(`${messages.map((m) => JSON.stringify(m)).join("\n")}\n`);
    child.stdin.end();
    expect(await exited).toBe(0);
    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(7);
    const byId = new Map(lines.map((l) => JSON.parse(l) as Loose).map((m) => [m.id, m]));
    for (const m of byId.values()) expect(m.jsonrpc).toBe("2.0");
    expect(byId.get(3).result.structuredContent.results[0].path).toBe("src/math.ts");
    expect(byId.get(4).result.isError).toBe(true);
    expect(byId.get(5).error.code).toBe(-32602);
    expect(byId.get(6).error.code).toBe(-32002);
    expect(byId.get(7).error.code).toBe(-32601);
    // Logs went to stderr.
    expect(stderr).toContain("serving the local index over stdio");
  });

  it("refuses to start, on stderr, when ConHub answers without a usable key, or --url does not answer", async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [[], { CONHUB_URL: gateway }, /CONHUB_API_KEY is not set/],
      [[], { CONHUB_URL: gateway, CONHUB_API_KEY: "chk_nope_nope" }, /refused CONHUB_API_KEY/],
      [["--url", await closedPortUrl()], {}, /does not answer/],
    ];
    const procs = cases.map(([args, env]) =>
      spawnConhub(["mcp", ...args], cleanEnv({ CONHUB_DATA_DIR: dataDir, ...env })),
    );
    for (const [i, proc] of procs.entries()) {
      expect(await proc.exited, proc.stderr()).toBe(2);
      expect(proc.stderr()).toMatch(cases[i]![2]);
      expect(proc.stdout()).toBe("");
    }
  });
});
