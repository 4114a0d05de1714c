/**
 * Filesystem MCP server: tool-call latency (p50/p99) over Streamable HTTP on
 * a real socket (the filesystem target alone, started by `startPlatform` on a
 * free port) for a cheap tool and for real work: read a 200-line range and a
 * content search over a generated 2,000-file tree.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startPlatform } from "../cli/src/runtime.js";
import { freePorts } from "../test/support/processes.js";
import { percentile } from "./support/measure.js";

const iterations = Number(process.env.BENCH_ITERATIONS ?? 300);

async function corpus(root: string): Promise<void> {
  for (let d = 0; d < 40; d += 1) {
    const dir = join(root, "src", `module${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(
      Array.from({ length: 50 }, (_, f) =>
        writeFile(
          join(dir, `file${f}.ts`),
          Array.from(
            { length: 200 },
            (_, l) => `export function fn_${d}_${f}_${l}(x: number): number { return x * ${l}; }`,
          ).join("\n"),
        ),
      ),
    );
  }
  await writeFile(join(root, "src", "module7", "file13.ts"), "export function needleInTheHaystack() {}\n", {
    flag: "a",
  });
}

export async function runFsMcpBench(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), "conhub-bench-fs-"));
  const root = join(base, "root");
  await corpus(root);
  const [port] = await freePorts(1);
  const platform = await startPlatform({
    targets: ["filesystem"],
    gateway: false,
    env: {
      ...process.env,
      LOG_LEVEL: "warn",
      CONHUB_DATA_DIR: join(base, "data"),
      FILESYSTEM_MCP_PORT: String(port),
      FILE_SYSTEM_ALLOWED_PATHS: root,
    },
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["list_roots", {}, "`list_roots` (protocol + transport overhead)"],
    ["read_file", { path: "src/module3/file7.ts", startLine: 50, endLine: 249 }, "`read_file`, 200 lines"],
    [
      "search_content",
      { pattern: "needleInTheHaystack" },
      "`search_content` literal, 2,000 files / 28 MB, 1 hit",
    ],
    [
      "search_content",
      { pattern: "fn_7_13_1\\d\\b", regex: true, maxResults: 20 },
      "`search_content` regex, same tree",
    ],
  ];
  const rows: string[] = [];
  for (const [name, args, label] of cases) {
    const n = name === "search_content" ? Math.max(20, Math.floor(iterations / 10)) : iterations;
    for (let i = 0; i < 5; i += 1) await client.callTool({ name, arguments: args });
    const times: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const started = performance.now();
      const result = await client.callTool({ name, arguments: args });
      times.push(performance.now() - started);
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`);
    }
    times.sort((a, b) => a - b);
    rows.push(
      `| ${label} | ${n} | ${percentile(times, 50).toFixed(2)} | ${percentile(times, 99).toFixed(2)} |`,
    );
  }
  await client.close();
  await platform.stop();
  await rm(base, { recursive: true, force: true });
  const lines = [
    "## fs-mcp — filesystem MCP server tool calls over Streamable HTTP",
    "",
    `### ${new Date().toISOString().slice(0, 10)}`,
    "",
    `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    "One SDK client, calls one after another, on 127.0.0.1 (stateless: each call is one POST that builds a fresh server).",
    "",
    "| Call | calls | p50 ms | p99 ms |",
    "|---|---|---|---|",
    ...rows,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
