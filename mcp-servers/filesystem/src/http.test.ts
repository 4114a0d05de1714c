import { execFileSync } from "node:child_process";
import { readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@conhub/storage/testing";
import { describe, expect, it } from "vitest";
import { readToolNames, writeToolNames } from "./server.js";
import { httpClient, makeFixture, startFilesystemTarget, textOf } from "./testing.js";

// Structured content is checked field by field; a loose type keeps those assertions short.
// biome-ignore lint/suspicious/noExplicitAny: test-only
type Loose = any;

async function setup(extraEnv: Record<string, string> = {}) {
  const base = await tempDir("conhub-fs-");
  const { root, outside } = await makeFixture(base);
  const instance = await startFilesystemTarget({
    FILE_SYSTEM_ALLOWED_PATHS: root,
    CONHUB_DATA_DIR: join(base, "data"),
    ...extraEnv,
  });
  const client = await httpClient(instance);
  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await client.callTool({ name, arguments: args });
    return {
      result,
      text: textOf(result),
      isError: result.isError === true,
      data: result.structuredContent as Loose,
    };
  };
  return { base, root, outside, instance, client, call };
}

describe("filesystem MCP server over Streamable HTTP", () => {
  it("lists the read tools, with strict input schemas, and no write tools by default", async () => {
    const { client } = await setup();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...readToolNames].sort());
    for (const tool of tools) {
      expect(tool.description!.length).toBeGreaterThan(60);
      expect(tool.inputSchema.type).toBe("object");
      expect((tool.inputSchema as { additionalProperties?: boolean }).additionalProperties).toBe(false);
      expect(tool.annotations?.readOnlyHint).toBe(true);
    }
    const read = tools.find((t) => t.name === "read_file")!;
    expect(read.inputSchema.required).toEqual(["path"]);
    expect(Object.keys(read.inputSchema.properties ?? {})).toEqual([
      "path",
      "startLine",
      "endLine",
      "maxBytes",
      "lineNumbers",
    ]);
  });

  it("list_roots names the roots and the policy", async () => {
    const { call, root } = await setup();
    const { text, data } = await call("list_roots");
    expect(text).toContain(root);
    expect(text).toContain("write tools are disabled");
    expect(data).toEqual({ roots: [{ path: root, exists: true }], allowHidden: false, writeEnabled: false });
  });

  it("list_directory lists entries with type, size and time, hides dot-files, flags escaping links", async () => {
    const { call, root } = await setup();
    const { text, data, isError } = await call("list_directory", {});
    expect(isError).toBe(false);
    expect(data.path).toBe(root);
    const names = data.entries.map((e: { name: string }) => e.name);
    expect(names.slice(0, 3)).toEqual(["docs", "node_modules", "src"]); // directories first
    expect(names).not.toContain(".env");
    expect(names).not.toContain(".git");
    expect(data.hiddenEntries).toBe(2);
    const readme = data.entries.find((e: { name: string }) => e.name === "README.md");
    expect(readme).toMatchObject({ type: "file", size: 40 });
    expect(Date.parse(readme.modified)).toBeGreaterThan(0);
    const links = Object.fromEntries(
      data.entries
        .filter((e: { type: string }) => e.type === "symlink")
        .map((e: Loose) => [e.name, e.linkTarget]),
    );
    expect(links).toEqual({ "link-inside": "file", "link-outside": "outside", "linkdir-outside": "outside" });
    expect(text).toContain("[dir]  src/");
    expect(text).toContain("(2 hidden not shown)");
    expect(text).not.toContain("secret");
  });

  it("list_directory paginates a huge directory", async () => {
    const { call, root } = await setup();
    const dir = join(root, "many");
    execFileSync("mkdir", ["-p", dir]);
    await Promise.all(
      Array.from({ length: 2500 }, (_, i) => writeFile(join(dir, `f${String(i).padStart(4, "0")}.txt`), "x")),
    );
    const first = await call("list_directory", { path: dir, limit: 1000 });
    expect(first.data.total).toBe(2500);
    expect(first.data.entries).toHaveLength(1000);
    expect(first.data.nextOffset).toBe(1000);
    expect(first.text).toContain("call list_directory with offset=1000");
    const last = await call("list_directory", { path: "many", offset: 2000, limit: 1000 });
    expect(last.data.entries).toHaveLength(500);
    expect(last.data.entries[0].name).toBe("f2000.txt");
    expect(last.data.nextOffset).toBeNull();
  });

  it("directory_tree shows levels, honours depth, entry caps and excludes, never follows links", async () => {
    const { call, root } = await setup();
    const full = await call("directory_tree", { maxDepth: 5 });
    expect(full.isError).toBe(false);
    expect(full.text.split("\n")[0]).toBe(`${root}/`);
    expect(full.text).toContain("  src/\n    app.ts\n    util/\n      strings.ts");
    expect(full.text).not.toContain("node_modules"); // excluded by default
    expect(full.text).not.toContain(".git");
    expect(full.text).toContain("linkdir-outside -> (symlink, not followed)");
    expect(full.text).not.toContain("secret.txt");
    const shallow = await call("directory_tree", { maxDepth: 1, exclude: [] });
    expect(shallow.text).toContain("  src/ …");
    expect(shallow.text).toContain("node_modules/ …");
    expect(shallow.text).not.toContain("strings.ts");
    const capped = await call("directory_tree", { maxEntries: 3 });
    expect(capped.text).toMatch(/… \d+ more/);
    expect(capped.text).toContain("Stopped at maxEntries=3");
  });

  it("read_file returns exact text, line ranges, and line numbers", async () => {
    const { call, root } = await setup();
    const whole = await call("read_file", { path: "src/app.ts" });
    const exact = await readFile(join(root, "src/app.ts"), "utf8");
    expect((whole.result.content as Array<{ text: string }>)[0]!.text).toBe(exact);
    expect(whole.text).toContain("lines 1–9 of 9 (end of file)");
    const range = await call("read_file", { path: join(root, "src/app.ts"), startLine: 3, endLine: 5 });
    expect((range.result.content as Array<{ text: string }>)[0]!.text).toBe(
      'export function handleRequest(name: string): string {\n  return shout("hello " + name);\n}\n',
    );
    expect(range.text).toContain("More follows: call read_file with startLine=6");
    const numbered = await call("read_file", {
      path: "src/app.ts",
      startLine: 7,
      endLine: 8,
      lineNumbers: true,
    });
    expect(numbered.text).toContain(
      "7\texport function handleError(err: Error): string {\n8\t  return err.message;",
    );
    const past = await call("read_file", { path: "src/app.ts", startLine: 50 });
    expect(past.isError).toBe(true);
    expect(past.text).toContain("past the end");
    const backwards = await call("read_file", { path: "src/app.ts", startLine: 5, endLine: 2 });
    expect(backwards.isError).toBe(true);
  });

  it("read_file paginates a long file at line boundaries with a next hint", async () => {
    const { call } = await setup();
    const page = await call("read_file", { path: "big.txt", maxBytes: 1000 });
    const body = (page.result.content as Array<{ text: string }>)[0]!.text;
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1000);
    expect(body.endsWith("\n")).toBe(true);
    const lines = body.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^line 1 x+$/);
    const next = lines.length + 1;
    expect(page.text).toContain(`call read_file with startLine=${next}`);
    const second = await call("read_file", { path: "big.txt", startLine: next, maxBytes: 1000 });
    expect((second.result.content as Array<{ text: string }>)[0]!.text.startsWith(`line ${next} `)).toBe(
      true,
    );
    const tail = await call("read_file", { path: "big.txt", startLine: 2999 });
    expect(tail.text).toContain("lines 2999–3000 of 3000 (end of file)");
  });

  it("read_file never cuts a UTF-8 character, refuses binary files and directories", async () => {
    const { call, root } = await setup();
    await writeFile(join(root, "wide.txt"), "€".repeat(100)); // 3 bytes each, one line
    const cut = await call("read_file", { path: "wide.txt", maxBytes: 10 });
    expect((cut.result.content as Array<{ text: string }>)[0]!.text).toBe("€€€");
    expect(cut.text).toContain("Line 1 is longer than maxBytes=10");
    const uni = await call("read_file", { path: "unicode.txt" });
    expect(uni.text).toContain("héllo wörld — ünïcödé ✓ 𝄞");
    const bin = await call("read_file", { path: "image.bin" });
    expect(bin.isError).toBe(true);
    expect(bin.text).toContain("is a binary file");
    const dir = await call("read_file", { path: "src" });
    expect(dir.isError).toBe(true);
    expect(dir.text).toContain("is a directory");
  });

  it("search_files matches globs and substrings, skips node_modules and hidden entries", async () => {
    const { call, root } = await setup();
    const ts = await call("search_files", { pattern: "*.ts" });
    expect(ts.data.matches.map((m: { path: string }) => m.path).sort()).toEqual([
      join(root, "src/app.ts"),
      join(root, "src/util/strings.ts"),
    ]);
    const anchored = await call("search_files", { pattern: "src/**/*.TS" });
    expect(anchored.data.matches).toHaveLength(2);
    const sub = await call("search_files", { pattern: "GUIDE", type: "file" });
    expect(sub.data.matches).toEqual([{ path: join(root, "docs/guide.md"), type: "file" }]);
    const withModules = await call("search_files", { pattern: "index.js", exclude: [] });
    expect(withModules.data.matches).toHaveLength(1);
    const hidden = await call("search_files", { pattern: "config" });
    expect(hidden.data.matches).toEqual([]);
    const capped = await call("search_files", { pattern: "*", maxResults: 2 });
    expect(capped.data.matches).toHaveLength(2);
    expect(capped.data.truncated).toBe(true);
    expect(capped.text).toContain("Stopped early");
  });

  it("search_content finds literals and regexes with context lines", async () => {
    const { call, root } = await setup();
    const literal = await call("search_content", { pattern: "handlerequest" });
    expect(literal.data.matches.map((m: Loose) => [m.path, m.line])).toEqual([
      [join(root, "docs/guide.md"), 3],
      [join(root, "src/app.ts"), 3],
    ]);
    const caseSensitive = await call("search_content", { pattern: "handlerequest", caseSensitive: true });
    expect(caseSensitive.data.matches).toEqual([]);
    const regex = await call("search_content", {
      pattern: "^export function (handle\\w+)",
      regex: true,
      contextLines: 1,
      include: ["*.ts"],
    });
    expect(regex.isError).toBe(false);
    expect(regex.data.matches).toHaveLength(2);
    expect(regex.data.matches[0]).toMatchObject({
      path: join(root, "src/app.ts"),
      line: 3,
      column: 1,
      before: [""],
      after: ['  return shout("hello " + name);'],
    });
    expect(regex.text).toContain(`${join(root, "src/app.ts")}\n  2-\n  3:export function handleRequest`);
    expect(regex.text).toContain("  --\n  6-\n  7:export function handleError");
    expect(regex.data.skippedBinary).toBe(0); // image.bin is excluded by include
    const all = await call("search_content", { pattern: "P", caseSensitive: true });
    expect(all.data.skippedBinary).toBe(1);
    const one = await call("search_content", { pattern: "shout", path: "src/util/strings.ts" });
    expect(one.data.matches).toHaveLength(1);
    const secrets = await call("search_content", { pattern: "SECRET" });
    expect(secrets.data.matches).toEqual([]); // .env hidden, links to outside not followed
    const bad = await call("search_content", { pattern: "(unclosed", regex: true });
    expect(bad.isError).toBe(true);
    expect(bad.text).toContain("not a valid regular expression");
    const capped = await call("search_content", { pattern: "line", maxResults: 5 });
    expect(capped.data.matches).toHaveLength(5);
    expect(capped.data.truncated).toBe(true);
    const large = await call("search_content", { pattern: "line 2999", maxFileBytes: 1000 });
    expect(large.data.matches).toEqual([]);
    expect(large.data.skippedLarge).toBe(1);
  });

  it("file_info describes files, directories and links", async () => {
    const { call, root } = await setup();
    const file = await call("file_info", { path: "big.txt" });
    expect(file.data).toMatchObject({
      path: join(root, "big.txt"),
      type: "file",
      lines: 3000,
      encoding: "utf-8",
    });
    const readme = await call("file_info", { path: "README.md" });
    expect(readme.data.permissions).toBe("rw-r--r--");
    const bin = await call("file_info", { path: "image.bin" });
    expect(bin.data.encoding).toBe("binary");
    expect(bin.text).toContain("binary");
    const dir = await call("file_info", { path: "src" });
    expect(dir.data).toMatchObject({ type: "directory", entries: 2, lines: null });
    const link = await call("file_info", { path: "link-inside" });
    expect(link.data.symlinkTo).toBe(join(root, "src/app.ts"));
  });

  describe("refuses every escape attempt", () => {
    const attempts: Array<
      [string, (ctx: { root: string; outside: string }) => string | Promise<string>, RegExp]
    > = [
      ["../", () => "../outside/secret.txt", /"\.\."/],
      ["/etc/passwd", () => "/etc/passwd", /outside the allowed roots; allowed roots are/],
      ["root/../../etc", ({ root }) => `${root}/../../etc/passwd`, /"\.\."/],
      ["a sibling sharing the root's prefix", ({ root }) => `${root}-evil/x`, /outside the allowed roots/],
      ["symlink to a file outside", () => "link-outside", /symbolic link that leads outside/],
      ["symlink dir to outside", () => "linkdir-outside/secret.txt", /symbolic link that leads outside/],
      ["percent-encoded ..", () => "%2e%2e/outside/secret.txt", /percent-encoding/],
      ["percent-encoded slash", () => "src%2f..%2f..%2fetc", /percent-encoding/],
      ["backslash ..", () => "..\\outside\\secret.txt", /backslash/],
      ["NUL byte", () => "README.md\0.txt", /NUL byte/],
      ["Windows drive letter", () => "C:/Windows/win.ini", /Windows drive/],
      ["fullwidth dots", () => "\uff0e\uff0e/outside/secret.txt", /look-alikes/],
      ["one-dot leaders", () => "\u2025/outside", /look-alikes/],
      ["bidi override", () => "src/\u202eorez.ts", /invisible/],
      ["hidden file", () => ".env", /hidden/],
      ["hidden directory", () => ".git/config", /hidden/],
      ["hidden file by absolute path", ({ root }) => `${root}/.env`, /hidden/],
      ["fullwidth-dot hidden name", () => "\uff0eenv", /hidden|look-alikes/],
      ["home shortcut outside the roots", () => "~/.bashrc", /outside the allowed roots|hidden/],
      ["a path through a file", () => "README.md/etc/passwd", /goes through a file/],
      ["very long path", () => `src/${"a/".repeat(3000)}x`, /characters long; the limit is 4096/],
      ["overlong name", () => `src/${"a".repeat(300)}`, /longer than 255 bytes/],
      ["empty path", () => "", /empty/],
      [
        "FIFO",
        async ({ root }) => {
          execFileSync("mkfifo", [join(root, "pipe")]);
          return "pipe";
        },
        /FIFO/,
      ],
      [
        "symlink to a FIFO",
        async ({ root }) => {
          execFileSync("mkfifo", [join(root, "pipe2")]);
          await symlink(join(root, "pipe2"), join(root, "pipe-link"));
          return "pipe-link";
        },
        /FIFO/,
      ],
      ["device file", () => "/dev/zero", /outside the allowed roots/],
    ];

    it.each(attempts)("%s", async (_label, make, message) => {
      const { call, root, outside } = await setup();
      const path = await make({ root, outside });
      for (const tool of ["read_file", "file_info", "list_directory", "search_content"]) {
        const args = tool === "search_content" ? { pattern: "x", path } : { path };
        const { isError, text } = await call(tool, args);
        expect(isError, `${tool} ${JSON.stringify(path)}`).toBe(true);
        expect(text).toMatch(message);
        expect(text).not.toMatch(/TOP SECRET|hunter2|root:x:|at .*\.ts:\d+/);
        expect(text.startsWith(`${tool}: `)).toBe(true);
      }
    });
  });

  it("a root given through a symlinked path still confines to the real directory", async () => {
    const base = await tempDir("conhub-fs-");
    const { root } = await makeFixture(base);
    await symlink(root, join(base, "alias"));
    const instance = await startFilesystemTarget({
      FILE_SYSTEM_ALLOWED_PATHS: join(base, "alias"),
      CONHUB_DATA_DIR: join(base, "data"),
    });
    const client = await httpClient(instance);
    const ok = await client.callTool({
      name: "read_file",
      arguments: { path: join(base, "alias/src/util/strings.ts") },
    });
    expect(ok.isError).toBeFalsy();
    const info = await client.callTool({ name: "file_info", arguments: { path: "README.md" } });
    expect((info.structuredContent as { path: string }).path).toBe(join(base, "alias/README.md"));
    const escaped = await client.callTool({ name: "read_file", arguments: { path: "link-outside" } });
    expect(escaped.isError).toBe(true);
  });

  it("hidden files are served when FILE_SYSTEM_ALLOW_HIDDEN=true, escapes still refused", async () => {
    const { call } = await setup({ FILE_SYSTEM_ALLOW_HIDDEN: "true" });
    expect((await call("read_file", { path: ".env" })).text).toContain("SECRET=hunter2");
    expect((await call("list_directory", {})).data.hiddenEntries).toBe(0);
    expect((await call("read_file", { path: "link-outside" })).isError).toBe(true);
  });

  it("never serves ConHub's data dir, even inside a root", async () => {
    const base = await tempDir("conhub-fs-");
    const { root } = await makeFixture(base);
    const dataDir = join(root, "conhub-data");
    execFileSync("mkdir", ["-p", dataDir]);
    await writeFile(join(dataDir, "auth-service.db"), "hashes");
    const instance = await startFilesystemTarget({
      FILE_SYSTEM_ALLOWED_PATHS: root,
      CONHUB_DATA_DIR: dataDir,
    });
    const client = await httpClient(instance);
    const read = await client.callTool({
      name: "read_file",
      arguments: { path: "conhub-data/auth-service.db" },
    });
    expect(read.isError).toBe(true);
    expect(textOf(read)).toContain("ConHub's data directory");
    const list = await client.callTool({ name: "list_directory", arguments: {} });
    expect(textOf(list)).not.toContain("conhub-data");
    const search = await client.callTool({ name: "search_content", arguments: { pattern: "hashes" } });
    expect((search.structuredContent as { matches: unknown[] }).matches).toEqual([]);
  });

  it("tool failures are tool errors; malformed requests are protocol errors", async () => {
    const { client, instance } = await setup();
    const unknownArg = await client.callTool({
      name: "read_file",
      arguments: { path: "README.md", colour: "red" },
    });
    expect(unknownArg.isError).toBe(true);
    expect(textOf(unknownArg)).toContain("colour");
    const wrongType = await client.callTool({
      name: "read_file",
      arguments: { path: "README.md", startLine: "one" },
    });
    expect(wrongType.isError).toBe(true);
    const post = (body: string) =>
      instance.fetch(
        new Request("http://filesystem.test/mcp", {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
          body,
        }),
      );
    const parse = await post("{not json");
    expect(parse.status).toBe(400);
    expect(((await parse.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const init = {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    };
    const initialized = await post(JSON.stringify(init));
    expect(initialized.status).toBe(200);
    const noMethod = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/teleport", params: {} }),
    );
    const noMethodBody = JSON.stringify(await noMethod.json());
    expect(noMethodBody).toContain("-32601");
    const badParams = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { arguments: 5 } }),
    );
    // The SDK answers a request whose params fail its schema with a JSON-RPC error naming the fields.
    const badParamsBody = (await badParams.json()) as {
      error?: { code: number; message: string };
      result?: unknown;
    };
    expect(badParamsBody.result).toBeUndefined();
    expect(badParamsBody.error!.code).toBeLessThan(-32000);
    expect(badParamsBody.error!.message).toContain("arguments");
  });

  it("answers GET and DELETE /mcp with 405, refuses foreign browser origins, keeps /health", async () => {
    const { instance } = await setup({ CORS_ORIGINS: "http://localhost:3000" });
    for (const method of ["GET", "DELETE"]) {
      const res = await instance.fetch(new Request("http://filesystem.test/mcp", { method }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
    }
    const foreign = await instance.fetch(
      new Request("http://filesystem.test/mcp", {
        method: "POST",
        headers: {
          origin: "http://evil.example",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: "{}",
      }),
    );
    expect(foreign.status).toBe(403);
    const allowed = await httpClient(instance, { origin: "http://localhost:3000" });
    expect((await allowed.listTools()).tools.length).toBe(readToolNames.length);
    const health = await instance.fetch(new Request("http://filesystem.test/health"));
    expect(health.status).toBe(200);
    const info = (await (await instance.fetch(new Request("http://filesystem.test/info"))).json()) as {
      capabilities: { available: string[] };
    };
    expect(info.capabilities.available.join(" ")).toContain("POST /mcp");
  });

  describe("write tools", () => {
    it("are registered only when FILE_SYSTEM_ENABLE_WRITE=true", async () => {
      const off = await setup();
      const res = await off.call("write_file", { path: "new.txt", content: "x" });
      expect(res.isError).toBe(true);
      expect(res.text).toContain("not found");
      const on = await setup({ FILE_SYSTEM_ENABLE_WRITE: "true" });
      const names = (await on.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining([...writeToolNames]));
      const write = (await on.client.listTools()).tools.find((t) => t.name === "write_file")!;
      expect(write.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    });

    it("write, create and move inside the roots, atomically and without clobbering", async () => {
      const { call, root } = await setup({ FILE_SYSTEM_ENABLE_WRITE: "true" });
      const created = await call("write_file", {
        path: "notes/today.md",
        content: "# Today\n",
        createDirectories: true,
      });
      expect(created.isError).toBe(false);
      expect(await readFile(join(root, "notes/today.md"), "utf8")).toBe("# Today\n");
      const again = await call("write_file", { path: "notes/today.md", content: "other" });
      expect(again.isError).toBe(true);
      expect(again.text).toContain("pass overwrite: true");
      await call("write_file", { path: "notes/today.md", content: "replaced\n", overwrite: true });
      expect(await readFile(join(root, "notes/today.md"), "utf8")).toBe("replaced\n");
      const noParent = await call("write_file", { path: "nowhere/x.txt", content: "x" });
      expect(noParent.text).toContain("createDirectories: true");
      // Writing through an in-root link replaces the link's target, keeping the link.
      await call("write_file", { path: "link-inside", content: "via link\n", overwrite: true });
      expect(await readFile(join(root, "src/app.ts"), "utf8")).toBe("via link\n");
      expect((await call("create_directory", { path: "a/b/c" })).isError).toBe(false);
      expect((await call("create_directory", { path: "a/b/c" })).text).toContain("already exists");
      const moved = await call("move_file", { source: "notes/today.md", destination: "a/b/c/today.md" });
      expect(moved.isError).toBe(false);
      expect(await readFile(join(root, "a/b/c/today.md"), "utf8")).toBe("replaced\n");
      await call("write_file", { path: "keep.txt", content: "keep" });
      const clobber = await call("move_file", { source: "README.md", destination: "keep.txt" });
      expect(clobber.isError).toBe(true);
      expect(await readFile(join(root, "keep.txt"), "utf8")).toBe("keep");
      const intoItself = await call("move_file", { source: "a", destination: "a/b/a2" });
      expect(intoItself.text).toContain("into itself");
      const rootMove = await call("move_file", { source: root, destination: "elsewhere" });
      expect(rootMove.text).toContain("allowed root");
      const leftovers = execFileSync("find", [root, "-name", "*.tmp"]).toString();
      expect(leftovers).toBe("");
    });

    it("are confined like the read tools", async () => {
      const { call, root, outside } = await setup({ FILE_SYSTEM_ENABLE_WRITE: "true" });
      const refused: Array<[string, Record<string, unknown>]> = [
        ["write_file", { path: "../outside/pwned.txt", content: "x" }],
        ["write_file", { path: join(outside, "pwned.txt"), content: "x" }],
        ["write_file", { path: "linkdir-outside/pwned.txt", content: "x" }],
        ["write_file", { path: "link-outside", content: "x", overwrite: true }],
        ["write_file", { path: ".bashrc", content: "x" }],
        ["write_file", { path: ".git/hooks/pre-commit", content: "x", createDirectories: true }],
        ["write_file", { path: "README.md/child", content: "x" }],
        ["write_file", { path: "src", content: "x", overwrite: true }],
        ["create_directory", { path: "linkdir-outside/newdir" }],
        ["create_directory", { path: "/tmp/conhub-should-not-exist" }],
        ["move_file", { source: "README.md", destination: "../outside/README.md" }],
        ["move_file", { source: "README.md", destination: "linkdir-outside/README.md" }],
        ["move_file", { source: "link-outside", destination: "stolen.txt" }],
        ["move_file", { source: "README.md", destination: ".hidden" }],
      ];
      for (const [tool, args] of refused) {
        const res = await call(tool, args);
        expect(res.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      }
      expect(execFileSync("ls", ["-A", outside]).toString().trim()).toBe("secret.txt");
      expect(await readFile(join(root, "README.md"), "utf8")).toContain("Fixture");
      expect(await readFile(join(outside, "secret.txt"), "utf8")).toBe("TOP SECRET\n");
    });
  });
});
