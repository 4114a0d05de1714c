import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  discoverOAuthProtectedResourceMetadata,
  extractWWWAuthenticateParams,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { portEnv, tempDir } from "../support/processes.js";
import { type Caller, callTool, firstText, indexDocuments, mcpClient, signUp } from "./mcp-support.js";

/**
 * The MCP service as agents meet it: auth-service, indexer, mcp-service and
 * the filesystem server in one process (with the gateway), two
 * organizations, documents indexed through the indexer's API, and the SDK's
 * real client over Streamable HTTP — directly and through the gateway.
 */

const ROUTER_TS = `import { log } from "./log.js";

/** Matches incoming requests against registered routes. */
export class Router {
  private readonly routes: Array<{ method: string; pattern: RegExp }> = [];

  /** Finds the route for a request and calls its handler. */
  handleRequest(method: string, url: string) {
    for (const route of this.routes) {
      if (route.method === method && route.pattern.test(url)) return route;
    }
    log("no route for", url);
    return undefined;
  }
}
`;
const RETRY_PY = `import time


def retry_with_backoff(fn, attempts=5):
    """Calls fn until it succeeds, sleeping longer after each failure."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception:
            time.sleep(2 ** attempt)
    raise RuntimeError("gave up")
`;
const BILLING_MD =
  "# Billing\n\nInvoices are sent on the first day of each month.\n\n## Refunds\n\nRefunds take five days.\n";
const BIG_TXT = `${Array.from({ length: 1500 }, (_, i) => `entry ${i + 1} of the audit trail`).join("\n")}\n`;
const BOB_PLAN = "# Plan\n\nThe Router rewrite ships in May. Codename zanzibar.\n";
const BOB_VAULT = `/** Opens the vault. */\nexport function openVault(code: string): boolean {\n  return code === "zanzibar";\n}\n`;

const lines = (text: string, from: number, to: number) =>
  `${text
    .split("\n")
    .slice(from - 1, to)
    .join("\n")}\n`;

describe("MCP service over Streamable HTTP", () => {
  let platform: Platform;
  let mcpUrl: string;
  let gatewayMcpUrl: string;
  let gateway: string;
  let alice: Caller;
  let bob: Caller;
  let fsRoot: string;

  beforeAll(async () => {
    const { env } = await portEnv();
    const base = tempDir("conhub-mcp-");
    fsRoot = join(base, "files");
    mkdirSync(fsRoot);
    writeFileSync(join(fsRoot, "notes.txt"), "filesystem note: deploy on Fridays is forbidden\n");
    platform = await startPlatform({
      targets: ["auth-service", "indexer", "mcp-service", "filesystem"],
      gateway: true,
      env: {
        ...env,
        CONHUB_DATA_DIR: join(base, "data"),
        LOG_LEVEL: "error",
        CONHUB_EMBEDDINGS: "none",
        FILE_SYSTEM_ALLOWED_PATHS: fsRoot,
      },
    });
    const auth = `http://127.0.0.1:${platform.ports["auth-service"]}`;
    const indexer = `http://127.0.0.1:${platform.ports.indexer}`;
    mcpUrl = `http://127.0.0.1:${platform.ports["mcp-service"]}/mcp`;
    gateway = `http://127.0.0.1:${platform.ports.gateway}`;
    gatewayMcpUrl = `${gateway}/mcp`;
    alice = await signUp(auth, `alice-${Date.now()}@example.com`);
    bob = await signUp(auth, `bob-${Date.now()}@example.com`);
    await indexDocuments(
      indexer,
      alice.key,
      { sourceId: "repo-a", sourceRoot: "https://git.example.com/a.git" },
      [
        { path: "src/router.ts", content: ROUTER_TS },
        { path: "lib/retry.py", content: RETRY_PY },
        { path: "docs/billing.md", content: BILLING_MD },
        { path: "big/audit.txt", content: BIG_TXT },
        ...Array.from({ length: 230 }, (_, i) => ({
          path: `many/f${String(i).padStart(3, "0")}.txt`,
          content: `small file ${i}\n`,
        })),
      ],
    );
    await indexDocuments(indexer, alice.key, { sourceId: "repo-c" }, [
      { path: "README.md", content: "# C\n\nThe second source.\n" },
      {
        path: "src/app.ts",
        content: 'import { Router } from "./router.js";\nexport const app = new Router();\n',
      },
    ]);
    await indexDocuments(indexer, bob.key, { sourceId: "repo-b" }, [
      { path: "secret/plan.md", content: BOB_PLAN },
      { path: "src/vault.ts", content: BOB_VAULT },
    ]);
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
  });

  describe("authentication", () => {
    it("refuses a request without a credential with 401 and where to sign in (RFC 9728), through the gateway too", async () => {
      for (const url of [mcpUrl, gatewayMcpUrl]) {
        const res = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
        });
        expect(res.status).toBe(401);
        const body = (await res.json()) as { error: { message: string } };
        expect(body.error.message).toContain("API key");
        const { resourceMetadataUrl, error } = extractWWWAuthenticateParams(res);
        expect(error).toBeUndefined();
        const origin = new URL(url).origin;
        expect(resourceMetadataUrl?.href).toBe(`${origin}/mcp/.well-known/oauth-protected-resource`);
        // The SDK's own discovery reads it, as an OAuth-capable client would.
        const metadata = await discoverOAuthProtectedResourceMetadata(url, {
          resourceMetadataUrl: resourceMetadataUrl!,
        });
        expect(metadata.resource).toBe(`${origin}/mcp`);
        expect(metadata.authorization_servers).toEqual([origin]);
        expect(metadata.scopes_supported).toContain("search:read");
        expect(metadata.bearer_methods_supported).toEqual(["header"]);
      }
      // The path-based well-known locations, on the service's own port.
      const own = new URL(mcpUrl).origin;
      for (const path of [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
      ]) {
        const res = await fetch(`${own}${path}`);
        expect(res.status).toBe(200);
        expect(((await res.json()) as { resource: string }).resource).toBe(`${own}/mcp`);
      }
      // Behind a TLS proxy, the forwarded origin is what clients are told.
      const proxied = await fetch(mcpUrl, {
        method: "POST",
        headers: {
          "x-forwarded-proto": "https",
          "x-forwarded-host": "conhub.example.com",
          "content-type": "application/json",
        },
        body: "{}",
      });
      expect(proxied.headers.get("www-authenticate")).toBe(
        'Bearer resource_metadata="https://conhub.example.com/mcp/.well-known/oauth-protected-resource"',
      );
    });

    it("refuses an invalid key as invalid_token; the SDK client cannot connect without a credential", async () => {
      const res = await fetch(mcpUrl, {
        method: "POST",
        headers: { authorization: "Bearer chk_nope_nope", "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(res.status).toBe(401);
      expect(extractWWWAuthenticateParams(res).error).toBe("invalid_token");
      const forged = await fetch(mcpUrl, {
        method: "POST",
        headers: {
          authorization: "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln",
          "content-type": "application/json",
        },
        body: "{}",
      });
      expect(forged.status).toBe(401);
      const client = new Client({ name: "anonymous", version: "1" });
      await expect(client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl)))).rejects.toThrow(
        /Authentication required/,
      );
    });
  });

  describe("listing", () => {
    it("lists ConHub's tools with strict schemas and descriptions written for a model", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      expect(client.getServerVersion()?.name).toBe("conhub");
      expect(client.getInstructions()).toContain("search");
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
      for (const tool of tools) {
        expect(tool.description!.length, tool.name).toBeGreaterThan(150);
        expect(tool.inputSchema.type).toBe("object");
        expect((tool.inputSchema as { additionalProperties?: boolean }).additionalProperties).toBe(false);
        expect(tool.annotations?.readOnlyHint).toBe(true);
      }
      const search = tools.find((t) => t.name === "search")!;
      expect(search.inputSchema.required).toEqual(["query"]);
      expect(Object.keys(search.inputSchema.properties ?? {})).toEqual([
        "query",
        "limit",
        "mode",
        "sourceIds",
        "path",
        "languages",
        "kinds",
      ]);
      expect((search.inputSchema.properties as Record<string, { enum?: string[] }>).mode!.enum).toEqual([
        "hybrid",
        "keyword",
        "vector",
      ]);
      const ask = tools.find((t) => t.name === "ask")!;
      expect(ask.description).toContain("AI service is not available yet");
      const grep = tools.find((t) => t.name === "grep")!;
      expect(grep.description).toContain("RE2");
    });

    it("lists documents as resources (paginated by cursor across sources), the template, and the prompts", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates).toEqual([
        expect.objectContaining({ uriTemplate: "conhub://{sourceId}/{+path}", name: "document" }),
      ]);
      const uris: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await client.listResources(cursor ? { cursor } : {});
        uris.push(...page.resources.map((r) => r.uri));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(2);
      expect(uris).toHaveLength(236);
      expect(new Set(uris).size).toBe(236);
      expect(uris).toContain("conhub://repo-a/src/router.ts");
      expect(uris).toContain("conhub://repo-c/README.md");
      expect(uris.filter((u) => u.startsWith("conhub://repo-b/"))).toEqual([]);
      const first = await client.listResources();
      expect(first.resources[0]).toMatchObject({
        mimeType: "text/plain",
        name: expect.any(String),
        size: expect.any(Number),
      });
      await expect(client.listResources({ cursor: "not-a-cursor" })).rejects.toThrow(/Invalid cursor/);

      const { prompts } = await client.listPrompts();
      expect(prompts.map((p) => p.name)).toEqual(["agent_rules", "research"]);
      const rules = await client.getPrompt({ name: "agent_rules" });
      const rulesText = (rules.messages[0]!.content as { text: string }).text;
      expect(rulesText).toContain("Search before you answer");
      expect(rulesText).toContain("Cite");
      const research = await client.getPrompt({
        name: "research",
        arguments: { question: "How are invoices sent?" },
      });
      expect((research.messages[0]!.content as { text: string }).text).toContain("How are invoices sent?");
      await expect(client.getPrompt({ name: "research", arguments: {} })).rejects.toThrow(/question/);
      await expect(client.getPrompt({ name: "nope" })).rejects.toThrow(/Unknown prompt/);
    });

    it("reads a resource: the document's exact text; unknown documents are 'resource not found'", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const read = await client.readResource({ uri: "conhub://repo-a/lib/retry.py" });
      expect(read.contents).toHaveLength(1);
      expect(read.contents[0]).toMatchObject({ uri: "conhub://repo-a/lib/retry.py", text: RETRY_PY });
      expect(read.contents[0]!.mimeType).toContain("python");
      const md = await client.readResource({ uri: "conhub://repo-a/docs/billing.md" });
      expect((md.contents[0] as { text: string }).text).toBe(BILLING_MD);
      const missing = client.readResource({ uri: "conhub://repo-a/nope.ts" });
      await expect(missing).rejects.toBeInstanceOf(McpError);
      await expect(missing).rejects.toMatchObject({ code: -32002 });
      await expect(client.readResource({ uri: "https://example.com/x" })).rejects.toMatchObject({
        code: -32602,
      });
    });
  });

  describe("tools", () => {
    it("search finds the chunk, with a URI, lines and a numbered snippet", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const found = await callTool(client, "search", { query: "retry with backoff after a failure" });
      expect(found.isError).toBe(false);
      expect(found.data.results[0]).toMatchObject({
        uri: "conhub://repo-a/lib/retry.py",
        path: "lib/retry.py",
        sourceId: "repo-a",
        symbol: "function retry_with_backoff",
        startLine: 4,
        endLine: 11,
      });
      // Hybrid without embeddings answers from keywords, and says so.
      expect(found.data.notice).toBeDefined();
      expect(found.text).toContain("[1] lib/retry.py:4-11");
      expect(found.text).toContain("conhub://repo-a/lib/retry.py");
      expect(found.text).toMatch(/\n\s+4\tdef retry_with_backoff/);
      const filtered = await callTool(client, "search", {
        query: "router",
        mode: "keyword",
        path: "src/**",
        sourceIds: ["repo-c"],
        limit: 3,
      });
      expect(filtered.data.results.map((r: { uri: string }) => r.uri)).toEqual([
        "conhub://repo-c/src/app.ts",
      ]);
      const methods = await callTool(client, "search", {
        query: "request handler",
        kinds: ["method"],
        mode: "keyword",
      });
      expect(methods.data.results[0].symbol).toBe("class Router > method handleRequest");
    });

    it("search failures and empty answers say what to do", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const none = await callTool(client, "search", { query: "kubernetes helm chart", mode: "keyword" });
      expect(none.isError).toBe(false);
      expect(none.data.results).toEqual([]);
      expect(none.text).toContain("No results");
      expect(none.text).toContain("list_sources");
      const vector = await callTool(client, "search", { query: "retry", mode: "vector" });
      expect(vector.isError).toBe(true);
      expect(vector.text).toMatch(/^search: Vector search is unavailable/);
      expect(vector.text).toContain('"keyword" or "hybrid"');
      const empty = await callTool(client, "search", { query: "   " });
      expect(empty.isError).toBe(true);
      expect(empty.text).toContain("query: must not be empty");
      const unknown = await callTool(client, "search", { query: "x", colour: "red" });
      expect(unknown.isError).toBe(true);
      expect(unknown.text).toContain("colour");
      const badLanguage = await callTool(client, "search", { query: "x", languages: ["klingon"] });
      expect(badLanguage.isError).toBe(true);
      expect(badLanguage.text).toContain("languages.0");
    });

    it("read returns exact lines by URI, by sourceId+path and by path alone; ranges, fragments, line numbers", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const whole = await callTool(client, "read", { uri: "conhub://repo-a/src/router.ts" });
      expect(whole.isError).toBe(false);
      expect(firstText(whole.result)).toBe(ROUTER_TS);
      expect(whole.text).toContain("lines 1–15 of 15");
      expect(whole.text).toContain("End of document.");
      const range = await callTool(client, "read", {
        sourceId: "repo-a",
        path: "src/router.ts",
        startLine: 7,
        endLine: 13,
      });
      expect(firstText(range.result)).toBe(lines(ROUTER_TS, 7, 13));
      expect(range.data).toMatchObject({ startLine: 7, endLine: 13, totalLines: 15, nextStartLine: null });
      const fragment = await callTool(client, "read", { uri: "conhub://repo-a/lib/retry.py#L4-L5" });
      expect(firstText(fragment.result)).toBe(lines(RETRY_PY, 4, 5));
      const byPath = await callTool(client, "read", { path: "/docs/billing.md", lineNumbers: true });
      expect(firstText(byPath.result)).toBe(
        "1\t# Billing\n2\t\n3\tInvoices are sent on the first day of each month.\n4\t\n5\t## Refunds\n6\t\n7\tRefunds take five days.",
      );
    });

    it("read paginates long documents with the next startLine", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const first = await callTool(client, "read", { uri: "conhub://repo-a/big/audit.txt" });
      expect(first.data).toMatchObject({ startLine: 1, endLine: 400, totalLines: 1500, nextStartLine: 401 });
      expect(firstText(first.result)).toBe(lines(BIG_TXT, 1, 400));
      expect(first.text).toContain("More follows: call read with startLine=401");
      const next = await callTool(client, "read", {
        uri: "conhub://repo-a/big/audit.txt",
        startLine: 401,
        maxLines: 2000,
      });
      expect(next.data).toMatchObject({ startLine: 401, endLine: 1500, nextStartLine: null });
      // Overlapping line windows are stitched back into the file's own lines.
      expect(firstText(next.result)).toBe(lines(BIG_TXT, 401, 1500));
      const past = await callTool(client, "read", { uri: "conhub://repo-a/big/audit.txt", startLine: 2000 });
      expect(past.isError).toBe(true);
      expect(past.text).toContain("past the end");
    });

    it("read failures are tool errors a model can act on", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const missing = await callTool(client, "read", { uri: "conhub://repo-a/src/nope.ts" });
      expect(missing.isError).toBe(true);
      expect(missing.text).toContain('No document "src/nope.ts" in source "repo-a"');
      const nowhere = await callTool(client, "read", { path: "src/nope.ts" });
      expect(nowhere.isError).toBe(true);
      expect(nowhere.text).toContain("search or list_documents");
      const badUri = await callTool(client, "read", { uri: "file:///etc/passwd" });
      expect(badUri.isError).toBe(true);
      expect(badUri.text).toContain("not a ConHub document URI");
      const neither = await callTool(client, "read", {});
      expect(neither.isError).toBe(true);
      expect(neither.text).toContain("give uri, or path");
      const backwards = await callTool(client, "read", {
        uri: "conhub://repo-a/lib/retry.py",
        startLine: 5,
        endLine: 2,
      });
      expect(backwards.isError).toBe(true);
      expect(backwards.text).toContain("endLine (2) is before startLine (5)");
    });

    it("grep matches regular expressions line by line; invalid patterns say why", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const found = await callTool(client, "grep", { pattern: "route\\.(method|pattern)" });
      expect(found.isError).toBe(false);
      expect(found.data.hits).toEqual([
        expect.objectContaining({ uri: "conhub://repo-a/src/router.ts", line: 10, sourceId: "repo-a" }),
      ]);
      expect(found.text).toContain("src/router.ts  (conhub://repo-a/src/router.ts)\n  10:");
      const ci = await callTool(client, "grep", { pattern: "INVOICES", ignoreCase: true, path: "docs/**" });
      expect(ci.data.hits).toHaveLength(1);
      const capped = await callTool(client, "grep", { pattern: "audit trail", limit: 5 });
      expect(capped.data.hits).toHaveLength(5);
      expect(capped.data.truncated).toBe(true);
      expect(capped.text).toContain("Stopped at limit=5");
      const bad = await callTool(client, "grep", { pattern: "(unclosed" });
      expect(bad.isError).toBe(true);
      expect(bad.text).toContain("not a valid pattern");
      const lookaround = await callTool(client, "grep", { pattern: "foo(?=bar)" });
      expect(lookaround.isError).toBe(true);
      expect(lookaround.text).toContain("RE2");
      const none = await callTool(client, "grep", { pattern: "helm_chart_\\d+" });
      expect(none.isError).toBe(false);
      expect(none.text).toContain("No line matches");
    });

    it("find_symbol finds definitions, with a URI whose fragment read understands", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const found = await callTool(client, "find_symbol", { name: "handleRequest" });
      expect(found.data.symbols).toEqual([
        expect.objectContaining({
          name: "handleRequest",
          kind: "method",
          path: "src/router.ts",
          symbolPath: "class Router > method handleRequest",
          uri: "conhub://repo-a/src/router.ts#L8-L14",
        }),
      ]);
      const read = await callTool(client, "read", { uri: found.data.symbols[0].uri });
      expect(firstText(read.result)).toBe(lines(ROUTER_TS, 8, 14));
      const prefix = await callTool(client, "find_symbol", {
        name: "retry_",
        match: "prefix",
        kind: "function",
      });
      expect(prefix.data.symbols.map((s: { name: string }) => s.name)).toEqual(["retry_with_backoff"]);
      const none = await callTool(client, "find_symbol", { name: "Rout" });
      expect(none.data.symbols).toEqual([]);
      expect(none.text).toContain('match "prefix"');
      const badKind = await callTool(client, "find_symbol", { name: "x", kind: "lines" });
      expect(badKind.isError).toBe(true);
    });

    it("list_sources and list_documents show what is indexed, paginated", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const sources = await callTool(client, "list_sources");
      expect(sources.data.sources.map((s: { id: string }) => s.id).sort()).toEqual(["repo-a", "repo-c"]);
      const a = sources.data.sources.find((s: { id: string }) => s.id === "repo-a");
      expect(a).toMatchObject({
        root: "https://git.example.com/a.git",
        documents: 234,
        uriPrefix: "conhub://repo-a/",
      });
      expect(sources.text).toContain("repo-a  (https://git.example.com/a.git)");
      const page = await callTool(client, "list_documents", {
        sourceId: "repo-a",
        prefix: "many/",
        limit: 100,
      });
      expect(page.data.documents).toHaveLength(100);
      expect(page.data.next).toBe("many/f099.txt");
      expect(page.text).toContain('after="many/f099.txt"');
      const rest = await callTool(client, "list_documents", {
        sourceId: "repo-a",
        prefix: "many/",
        after: page.data.next,
        limit: 1000,
      });
      expect(rest.data.documents).toHaveLength(130);
      expect(rest.data.next).toBeNull();
      const top = await callTool(client, "list_documents", { sourceId: "repo-a", prefix: "src" });
      expect(top.data.documents).toEqual([
        expect.objectContaining({
          path: "src/router.ts",
          uri: "conhub://repo-a/src/router.ts",
          language: "typescript",
        }),
      ]);
      const unknown = await callTool(client, "list_documents", { sourceId: "nope" });
      expect(unknown.isError).toBe(true);
      expect(unknown.text).toContain("list_sources shows yours");
    });

    it("ask returns whole passages with citations, and says it is not an AI answer", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const asked = await callTool(client, "ask", { question: "How long do refunds take?", limit: 2 });
      expect(asked.isError).toBe(false);
      expect(asked.text).toContain("No AI answer is available yet");
      expect(asked.data.answer).toBeNull();
      expect(asked.data.passages[0]).toMatchObject({
        citation: 1,
        path: "docs/billing.md",
        uri: expect.stringMatching(/^conhub:\/\/repo-a\/docs\/billing\.md#L\d+-L\d+$/),
      });
      expect(asked.data.passages[0].text).toContain("Refunds take five days.");
      expect(asked.text).toContain("[1] docs/billing.md:");
      const nothing = await callTool(client, "ask", { question: "zanzibar" });
      expect(nothing.data.passages).toEqual([]);
      expect(nothing.text).toContain("No passage");
    });

    it("unknown tools and malformed requests are protocol errors", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      await expect(client.callTool({ name: "teleport", arguments: {} })).rejects.toMatchObject({
        code: -32602,
      });
      const post = (body: string) =>
        fetch(mcpUrl, {
          method: "POST",
          headers: {
            authorization: `Bearer ${alice.key}`,
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
          },
          body,
        });
      const parse = await post("{not json");
      expect(parse.status).toBe(400);
      expect(((await parse.json()) as { error: { code: number } }).error.code).toBe(-32700);
      const noMethod = await post(
        JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/teleport", params: {} }),
      );
      expect(JSON.stringify(await noMethod.json())).toContain("-32601");
      const badParams = await post(
        JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { arguments: 5 } }),
      );
      const badBody = (await badParams.json()) as { error?: { code: number }; result?: unknown };
      expect(badBody.result).toBeUndefined();
      expect(badBody.error!.code).toBeLessThan(-32000);
      const get = await fetch(mcpUrl, { headers: { authorization: `Bearer ${alice.key}` } });
      expect(get.status).toBe(405);
    });
  });

  describe("organization isolation: Alice never sees Bob's data", () => {
    it("bob sees his own documents (the control)", async () => {
      const client = await mcpClient(mcpUrl, bob.key);
      expect(
        (await callTool(client, "search", { query: "zanzibar", mode: "keyword" })).data.results,
      ).toHaveLength(2);
      expect((await callTool(client, "grep", { pattern: "zanzibar" })).data.hits).toHaveLength(2);
      expect((await callTool(client, "find_symbol", { name: "openVault" })).data.symbols).toHaveLength(1);
      expect(
        firstText((await callTool(client, "read", { uri: "conhub://repo-b/src/vault.ts" })).result),
      ).toBe(BOB_VAULT);
      expect((await callTool(client, "list_sources")).data.sources.map((s: { id: string }) => s.id)).toEqual([
        "repo-b",
      ]);
      expect((await callTool(client, "list_documents", { sourceId: "repo-b" })).data.documents).toHaveLength(
        2,
      );
      expect((await callTool(client, "ask", { question: "zanzibar" })).data.passages).toHaveLength(2);
      expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual([
        "conhub://repo-b/secret/plan.md",
        "conhub://repo-b/src/vault.ts",
      ]);
      expect(
        (await client.readResource({ uri: "conhub://repo-b/secret/plan.md" })).contents[0],
      ).toMatchObject({ text: BOB_PLAN });
    });

    it("through every tool and resource, even when naming Bob's source", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      for (const mode of ["keyword", "hybrid"]) {
        const plain = await callTool(client, "search", { query: "zanzibar vault", mode });
        expect(plain.data.results).toEqual([]);
        const named = await callTool(client, "search", { query: "zanzibar", mode, sourceIds: ["repo-b"] });
        expect(named.data.results).toEqual([]);
      }
      const router = await callTool(client, "search", {
        query: "router rewrite ships in may",
        mode: "keyword",
        limit: 50,
      });
      expect(router.data.results.every((r: { sourceId: string }) => r.sourceId !== "repo-b")).toBe(true);
      expect((await callTool(client, "grep", { pattern: "zanzibar" })).data.hits).toEqual([]);
      expect(
        (await callTool(client, "grep", { pattern: "zanzibar", sourceIds: ["repo-b"] })).data.hits,
      ).toEqual([]);
      expect((await callTool(client, "find_symbol", { name: "openVault" })).data.symbols).toEqual([]);
      expect(
        (await callTool(client, "find_symbol", { name: "openVault", sourceId: "repo-b" })).data.symbols,
      ).toEqual([]);
      for (const args of [
        { uri: "conhub://repo-b/src/vault.ts" },
        { sourceId: "repo-b", path: "secret/plan.md" },
        { path: "secret/plan.md" },
      ]) {
        const read = await callTool(client, "read", args);
        expect(read.isError, JSON.stringify(args)).toBe(true);
        expect(read.text).not.toContain("zanzibar");
      }
      const sources = await callTool(client, "list_sources");
      expect(sources.data.sources.map((s: { id: string }) => s.id)).not.toContain("repo-b");
      const docs = await callTool(client, "list_documents", { sourceId: "repo-b" });
      expect(docs.isError).toBe(true);
      expect(docs.text).not.toContain("plan.md");
      const asked = await callTool(client, "ask", {
        question: "What is the vault codename zanzibar?",
        sourceIds: ["repo-b"],
      });
      expect(asked.data.passages).toEqual([]);
      const askedAll = await callTool(client, "ask", { question: "zanzibar vault codename" });
      expect(askedAll.text).not.toContain('zanzibar"');
      expect(askedAll.data.passages.every((p: { sourceId: string }) => p.sourceId !== "repo-b")).toBe(true);
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listResources(cursor ? { cursor } : {});
        all.push(...page.resources.map((r) => r.uri));
        cursor = page.nextCursor;
      } while (cursor);
      expect(all.some((u) => u.startsWith("conhub://repo-b/"))).toBe(false);
      // A cursor forged to start in Bob's source lists nothing of his.
      const forged = Buffer.from(JSON.stringify({ s: "repo-b" })).toString("base64url");
      const fromForged = await client.listResources({ cursor: forged });
      expect(fromForged.resources.some((r) => r.uri.startsWith("conhub://repo-b/"))).toBe(false);
      for (const uri of ["conhub://repo-b/src/vault.ts", "conhub://repo-b/secret/plan.md"]) {
        await expect(client.readResource({ uri })).rejects.toMatchObject({ code: -32002 });
      }
    });

    it("with Alice's access token (JWT) as with her API key", async () => {
      const client = await mcpClient(mcpUrl, alice.jwt);
      expect((await callTool(client, "search", { query: "zanzibar", mode: "keyword" })).data.results).toEqual(
        [],
      );
      expect((await callTool(client, "read", { uri: "conhub://repo-b/src/vault.ts" })).isError).toBe(true);
      expect(
        (await callTool(client, "search", { query: "retry_with_backoff", mode: "keyword" })).data.results[0]
          .path,
      ).toBe("lib/retry.py");
    });
  });

  describe("aggregation of the filesystem server", () => {
    it("gives callers with the admin scope its tools as fs_*, and their failures as tool errors", async () => {
      const client = await mcpClient(mcpUrl, alice.jwt);
      const { tools } = await client.listTools();
      const fsTools = tools.filter((t) => t.name.startsWith("fs_")).map((t) => t.name);
      expect(fsTools).toEqual([
        "fs_list_roots",
        "fs_list_directory",
        "fs_directory_tree",
        "fs_read_file",
        "fs_search_files",
        "fs_search_content",
        "fs_file_info",
      ]);
      expect(tools.find((t) => t.name === "fs_read_file")!.description).toMatch(/^\(filesystem\) /);
      const read = await callTool(client, "fs_read_file", { path: "notes.txt" });
      expect(read.isError).toBe(false);
      expect(read.text).toContain("deploy on Fridays is forbidden");
      const escaped = await callTool(client, "fs_read_file", { path: "../../etc/passwd" });
      expect(escaped.isError).toBe(true);
      expect(escaped.text).toContain('".."');
      const badArgs = await callTool(client, "fs_read_file", { path: "notes.txt", colour: 1 });
      expect(badArgs.isError).toBe(true);
      await expect(client.callTool({ name: "fs_teleport", arguments: {} })).rejects.toMatchObject({
        code: -32602,
      });
    });

    it("hides them from API keys without the admin scope", async () => {
      const client = await mcpClient(mcpUrl, alice.key);
      const { tools } = await client.listTools();
      expect(tools.some((t) => t.name.startsWith("fs_"))).toBe(false);
      await expect(
        client.callTool({ name: "fs_read_file", arguments: { path: "notes.txt" } }),
      ).rejects.toMatchObject({
        code: -32602,
      });
    });
  });

  describe("through the gateway", () => {
    it("serves the same MCP endpoint at /mcp", async () => {
      const client = await mcpClient(gatewayMcpUrl, alice.key);
      const found = await callTool(client, "search", { query: "handleRequest", mode: "keyword" });
      expect(found.data.results[0].path).toBe("src/router.ts");
    });

    it("GET /mcp/config returns the snippet for the dashboard", async () => {
      const res = await fetch(`${gateway}/mcp/config?client=cursor`);
      expect(res.status).toBe(200);
      const config = (await res.json()) as {
        snippet: unknown;
        text: string;
        where: string;
        transport: string;
      };
      expect(config.transport).toBe("http");
      expect(config.snippet).toEqual({
        mcpServers: {
          conhub: {
            url: `${gateway}/mcp`,
            headers: { Authorization: "Bearer <your ConHub API key (chk_…)>" },
          },
        },
      });
      const stdio = (await (await fetch(`${gateway}/mcp/config?client=vscode&transport=stdio`)).json()) as {
        snippet: { servers: { conhub: { command: string; args: string[]; env: Record<string, string> } } };
      };
      expect(stdio.snippet.servers.conhub).toMatchObject({
        command: "conhub",
        args: ["mcp"],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own input syntax
        env: { CONHUB_URL: gateway, CONHUB_API_KEY: "${input:conhub-api-key}" },
      });
      const bad = await fetch(`${gateway}/mcp/config?client=emacs`);
      expect(bad.status).toBe(400);
      expect(JSON.stringify(await bad.json())).toContain("claude, cursor, vscode");
    });
  });
});

describe("MCP service without the filesystem server", () => {
  it("lists no fs_* tools and answers calls to them with a tool error", async () => {
    const { env } = await portEnv();
    const base = tempDir("conhub-mcp-nofs-");
    const platform = await startPlatform({
      targets: ["auth-service", "indexer", "mcp-service"],
      env: { ...env, CONHUB_DATA_DIR: base, LOG_LEVEL: "silent", CONHUB_EMBEDDINGS: "none" },
    });
    try {
      // FILESYSTEM_MCP_URL points at a port nothing listens on.
      const caller = await signUp(
        `http://127.0.0.1:${platform.ports["auth-service"]}`,
        `carol-${Date.now()}@example.com`,
      );
      const client = await mcpClient(`http://127.0.0.1:${platform.ports["mcp-service"]}/mcp`, caller.jwt);
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
      const call = await callTool(client, "fs_read_file", { path: "notes.txt" });
      expect(call.isError).toBe(true);
      expect(call.text).toContain("the filesystem server is unavailable right now");
      const sources = await callTool(client, "list_sources");
      expect(sources.text).toContain("Nothing is indexed for you yet");
      const search = await callTool(client, "search", { query: "anything" });
      expect(search.data.results).toEqual([]);
    } finally {
      await platform.stop();
    }
  }, 60_000);
});
