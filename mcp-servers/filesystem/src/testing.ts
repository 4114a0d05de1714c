// Test support (not exported from the package): a target context without
// storage (the filesystem target uses none), a fixture tree, and MCP clients.
import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEnv, platformEnv, type TargetName, targetCatalog, targetNames } from "@conhub/config";
import type { PlatformConfig, TargetContext, TargetInstance, TargetStorage } from "@conhub/middleware";
import { createLogger } from "@conhub/utils";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { onTestFinished } from "vitest";
import { filesystemConfigShape } from "./config.js";
import { filesystemTarget } from "./target.js";

const noStorage = new Proxy({} as TargetStorage, {
  get: (_t, port) => () =>
    Promise.reject(new Error(`the filesystem target uses no storage (asked for ${String(port)})`)),
});

/** Starts the filesystem target in-process from environment variables. */
export async function startFilesystemTarget(env: Record<string, string>): Promise<TargetInstance> {
  const parsed = parseEnv({ ...platformEnv, ...filesystemConfigShape }, { LOG_LEVEL: "silent", ...env });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const raw = parsed.config as Record<string, unknown>;
  const ports = {} as Record<TargetName, number>;
  const urls = {} as Record<TargetName, string>;
  for (const name of targetNames) {
    ports[name] = raw[targetCatalog[name].portVar] as number;
    urls[name] = raw[targetCatalog[name].urlVar] as string;
  }
  const config = { ...raw, ports, urls } as PlatformConfig & typeof parsed.config;
  const ctx: TargetContext<typeof config> = {
    config,
    logger: createLogger({ level: "silent" }),
    version: "test",
    storage: noStorage,
    services: {} as TargetContext["services"],
    mode: "split",
  };
  return filesystemTarget.init(ctx);
}

/** A real MCP client talking Streamable HTTP to the target's app, in-process (no socket). */
export async function httpClient(
  instance: TargetInstance,
  headers: Record<string, string> = {},
): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL("http://filesystem.test/mcp"), {
    fetch: async (url, init) => instance.fetch(new Request(url, init)),
    requestInit: { headers },
  });
  const client = new Client({ name: "conhub-test", version: "1.0.0" });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

/** The text of a tool result, all parts joined. */
export function textOf(result: unknown): string {
  return ((result as CallToolResult).content ?? []).map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/**
 * root/
 *   README.md, src/app.ts, src/util/strings.ts, docs/guide.md, big.txt (3000 lines),
 *   image.bin (binary), unicode.txt, .env (hidden), .git/config (hidden dir),
 *   node_modules/pkg/index.js, link-inside -> src/app.ts
 * outside/secret.txt, and links from root to it.
 */
export async function makeFixture(base: string): Promise<{ root: string; outside: string }> {
  const root = join(base, "root");
  const outside = join(base, "outside");
  await mkdir(join(root, "src", "util"), { recursive: true });
  await mkdir(join(root, "docs"), { recursive: true });
  await mkdir(join(root, ".git"), { recursive: true });
  await mkdir(join(root, "node_modules", "pkg"), { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(root, "README.md"), "# Fixture\n\nA project used by the tests.\n");
  await writeFile(
    join(root, "src", "app.ts"),
    [
      'import { shout } from "./util/strings.js";',
      "",
      "export function handleRequest(name: string): string {",
      '  return shout("hello " + name);',
      "}",
      "",
      "export function handleError(err: Error): string {",
      "  return err.message;",
      "}",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(root, "src", "util", "strings.ts"),
    "export function shout(text: string): string {\n  return text.toUpperCase();\n}\n",
  );
  await writeFile(join(root, "docs", "guide.md"), "# Guide\n\nCall handleRequest with a name.\n");
  await writeFile(
    join(root, "big.txt"),
    `${Array.from({ length: 3000 }, (_, i) => `line ${i + 1} ${"x".repeat(40)}`).join("\n")}\n`,
  );
  await writeFile(join(root, "image.bin"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 1, 2, 3]));
  await writeFile(join(root, "unicode.txt"), "héllo wörld — ünïcödé ✓ 𝄞\n");
  await writeFile(join(root, ".env"), "SECRET=hunter2\n");
  await writeFile(join(root, ".git", "config"), "[core]\n");
  await writeFile(join(root, "node_modules", "pkg", "index.js"), "export const handleRequest = 1;\n");
  await writeFile(join(outside, "secret.txt"), "TOP SECRET\n");
  await symlink(join(root, "src", "app.ts"), join(root, "link-inside"));
  await symlink(join(outside, "secret.txt"), join(root, "link-outside"));
  await symlink(outside, join(root, "linkdir-outside"));
  await chmod(join(root, "README.md"), 0o644);
  return { root, outside };
}
