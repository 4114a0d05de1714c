import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectLanguage } from "../classify.js";
import type { Chunk } from "../document.js";
import { chunkDocument } from "./index.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".fixture"));

async function chunkFixture(name: string, options = {}) {
  const path = name.replace(/\.fixture$/, "");
  const content = readFileSync(join(FIXTURES, name), "utf8");
  return { content, ...(await chunkDocument({ path, content, language: detectLanguage(path) }, options)) };
}

/** Every invariant a chunk list must satisfy, whatever the language. */
function checkInvariants(content: string, chunks: Chunk[]) {
  const lines = content.split("\n");
  if (content.endsWith("\n")) lines.pop();
  const bytes = Buffer.from(content, "utf8");
  const covered = new Array<boolean>(lines.length).fill(false);
  let previousEnd = 0;
  chunks.forEach((chunk, i) => {
    expect(chunk.ordinal).toBe(i);
    expect(chunk.startLine).toBeLessThanOrEqual(chunk.endLine);
    // Byte offsets address exactly the chunk's text in the UTF-8 content.
    expect(bytes.subarray(chunk.startByte, chunk.endByte).toString("utf8")).toBe(chunk.text);
    expect(chunk.tokenEstimate).toBe(Math.ceil((chunk.endByte - chunk.startByte) / 4));
    // Whole-line chunks are exactly their lines.
    if (
      chunk.startByte ===
      Buffer.byteLength(lines.slice(0, chunk.startLine - 1).join("\n")) + (chunk.startLine > 1 ? 1 : 0)
    ) {
      expect(chunk.text.startsWith(lines[chunk.startLine - 1]!.slice(0, 20))).toBe(true);
    }
    expect(chunk.text.trim()).not.toBe("");
    for (let line = chunk.startLine; line <= chunk.endLine; line++) covered[line - 1] = true;
    expect(chunk.startByte).toBeGreaterThanOrEqual(previousEnd);
    previousEnd = chunk.endByte;
  });
  const missing = lines
    .map((line, i) => (line.trim() !== "" && !covered[i] ? i + 1 : 0))
    .filter((n) => n > 0);
  expect(missing).toEqual([]);
}

describe("chunking invariants on every fixture", () => {
  it.each(fixtures)("%s: chunks cover every non-blank line once, with exact offsets", async (name) => {
    const { content, chunks, method } = await chunkFixture(name);
    expect(method).toBe(name.startsWith("guide.md") ? "markdown" : "syntax");
    checkInvariants(content, chunks);
  });

  it.each(fixtures)("%s: invariants hold with tiny chunk sizes too (forced splitting)", async (name) => {
    const { content, chunks } = await chunkFixture(name, {
      maxChunkTokens: 40,
      smallChunkTokens: 8,
      mergeUpToTokens: 20,
    });
    checkInvariants(content, chunks);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(160);
  });
});

const paths = (chunks: Chunk[]) => chunks.map((c) => `${c.startLine}-${c.endLine} ${c.kind} ${c.symbolPath}`);

describe("chunk boundaries and symbol paths per language", () => {
  it("TypeScript: classes split into methods, doc comments attached, small neighbours merged", async () => {
    const { chunks, symbols } = await chunkFixture("router.ts.fixture");
    expect(paths(chunks)).toEqual([
      "1-21 module ",
      "23-33 function function route",
      "35-45 class class Router",
      "47-56 method class Router > method add",
      "58-60 method class Router > method get",
      "62-81 method class Router > method handle",
      "83-94 function function readBody",
      "96-106 module ",
    ]);
    expect(symbols.map((s) => s.path)).toEqual([
      "type Handler",
      "interface Request",
      "interface Route",
      "function route",
      "class Router",
      "class Router > method notFound",
      "class Router > method constructor",
      "class Router > method add",
      "class Router > method get",
      "class Router > method handle",
      "function readBody",
      "function createRouter",
      "namespace Middleware",
      "namespace Middleware > function logger",
    ]);
    expect(symbols.find((s) => s.name === "handle")).toMatchObject({
      startLine: 63,
      endLine: 80,
      container: "Router",
      kind: "method",
    });
  });

  it("TSX: components as functions, arrow components, class components", async () => {
    const { chunks, symbols } = await chunkFixture("button.tsx.fixture");
    expect(paths(chunks)).toContain("16-33 function function Button");
    expect(paths(chunks)).toContain("35-39 function function Spinner");
    expect(symbols.map((s) => s.path)).toContain("class ErrorBoundary > method render");
  });

  it("JavaScript: private methods, getters, the class header with its small members", async () => {
    const { chunks, symbols } = await chunkFixture("queue.js.fixture");
    expect(paths(chunks)).toContain("30-39 method class JobQueue > method #drain");
    expect(paths(chunks).some((p) => p.startsWith("5-") && p.endsWith("class JobQueue"))).toBe(true);
    expect(symbols.map((s) => s.path)).toEqual(
      expect.arrayContaining(["class JobQueue > method push", "function backoff", "function createQueue"]),
    );
  });

  it("Python: decorators, docstrings, methods, nested functions kept inside their method", async () => {
    const { chunks, symbols } = await chunkFixture("inventory.py.fixture");
    expect(paths(chunks)).toEqual(
      expect.arrayContaining([
        "45-51 class class Inventory",
        "63-71 method class Inventory > method reserve",
        "73-75 method class Inventory > method needs_reorder",
      ]),
    );
    expect(symbols.find((s) => s.name === "needs_reorder")).toMatchObject({ startLine: 74, kind: "method" });
    expect(symbols.find((s) => s.name === "Item")).toMatchObject({ startLine: 22, kind: "class" });
    expect(symbols.some((s) => s.name === "shortfall")).toBe(false);
  });

  it("Go: methods named by receiver, struct and interface types", async () => {
    const { chunks, symbols } = await chunkFixture("server.go.fixture");
    expect(paths(chunks)).toContain("80-114 method method Server.ServeHTTP");
    expect(symbols.find((s) => s.name === "Get")).toMatchObject({
      path: "method MemoryStore.Get",
      container: "MemoryStore",
    });
    expect(symbols.find((s) => s.name === "Store")?.kind).toBe("interface");
    expect(symbols.find((s) => s.name === "MemoryStore")?.kind).toBe("struct");
    expect(symbols.find((s) => s.name === "Map")?.kind).toBe("function");
  });

  it("Rust: impl blocks with trait names, traits with default methods, modules, attributes attached", async () => {
    const { chunks, symbols } = await chunkFixture("geometry.rs.fixture");
    expect(paths(chunks)).toEqual(
      expect.arrayContaining([
        "27-31 impl impl fmt::Display for Point",
        "58-67 method impl Shape for Kind > method bounds",
        "81-91 method impl Grid<S> > method insert",
      ]),
    );
    expect(chunks.find((c) => c.symbolPath === "struct Point")?.text).toContain("#[derive(Debug");
    expect(symbols.map((s) => s.path)).toEqual(
      expect.arrayContaining([
        "trait Shape > method may_contain",
        "module io > function parse_point",
        "macro point",
      ]),
    );
  });

  it("Java: annotations and Javadoc attached, nested classes, enums with methods, records", async () => {
    const { chunks, symbols } = await chunkFixture("OrderService.java.fixture");
    expect(paths(chunks)).toEqual(
      expect.arrayContaining([
        "26-42 method class OrderService > method place",
        "63-75 class class OrderService > class Report",
      ]),
    );
    expect(chunks.find((c) => c.symbolPath === "class OrderService > method place")?.text).toMatch(
      /^\s+\/\*\*[\s\S]*@Transactional/,
    );
    expect(symbols.map((s) => s.path)).toEqual(
      expect.arrayContaining([
        "class OrderService > class Report > method total",
        "enum Status > method isFinal",
        "record Line",
      ]),
    );
  });

  it("C: functions by declarator name, typedefs, functions inside #ifdef", async () => {
    const { chunks, symbols } = await chunkFixture("ringbuf.c.fixture");
    expect(paths(chunks)).toContain("34-47 function function rb_create");
    expect(symbols.map((s) => s.path)).toEqual([
      "struct ringbuf",
      "typedef rb_status",
      "function next_pow2",
      "function rb_create",
      "function rb_destroy",
      "function rb_write",
      "function rb_pop",
      "function rb_dump",
    ]);
  });

  it("C++: namespaces, templates, inline methods, out-of-class definitions", async () => {
    const { chunks, symbols } = await chunkFixture("matrix.cpp.fixture");
    expect(paths(chunks)).toEqual(
      expect.arrayContaining([
        "6-18 class namespace linalg > class Matrix",
        "20-35 method namespace linalg > class Matrix > method operator*",
        "45-54 function namespace linalg > function Matrix<T>::transpose",
      ]),
    );
    expect(symbols.find((s) => s.name === "of")?.path).toBe("namespace linalg > struct Stats > method of");
  });

  it("C#: namespace, attributes attached, constructors, records", async () => {
    const { chunks, symbols } = await chunkFixture("AccountController.cs.fixture");
    expect(paths(chunks)).toContain(
      "50-66 method namespace Bank.Api > class AccountController > method Deposit",
    );
    expect(chunks.find((c) => c.symbolPath.endsWith("method Open"))?.text).toMatch(/^\s+\[HttpPost\]/);
    expect(symbols.map((s) => s.path)).toEqual(
      expect.arrayContaining([
        "namespace Bank.Api > record struct Money",
        "namespace Bank.Api > class AccountController > constructor AccountController",
        "namespace Bank.Api > interface IAccountStore > method FindAsync",
      ]),
    );
  });

  it("Ruby: modules, classes, singleton methods, class << self", async () => {
    const { chunks, symbols } = await chunkFixture("shipping.rb.fixture");
    expect(paths(chunks)).toContain(
      "33-41 method module Shipping > class RateCalculator > method fetch_quote",
    );
    expect(symbols.map((s) => s.path)).toEqual(
      expect.arrayContaining([
        "module Shipping > class RateCalculator > method self.for",
        "module Shipping > class << self > method calculators",
        "function format_cents",
      ]),
    );
  });

  it("PHP: classes with attributes, interfaces, traits, enums, functions", async () => {
    const { chunks, symbols } = await chunkFixture("UserRepository.php.fixture");
    expect(paths(chunks)).toContain("22-31 method class UserRepository > method findByEmail");
    expect(symbols.map((s) => s.path)).toEqual(
      expect.arrayContaining([
        "trait Timestamps > method touch",
        "enum Role > method label",
        "function normalize_email",
      ]),
    );
  });
});

describe("splitting and merging", () => {
  const bigFunction = [
    "export function migrate(db: Database): void {",
    ...Array.from({ length: 120 }, (_, i) =>
      [
        `  // Step ${i}: copy table_${i} into its new layout.`,
        `  if (db.has("table_${i}")) {`,
        `    db.run("INSERT INTO new_${i} SELECT * FROM table_${i}");`,
        "  }",
      ].join("\n"),
    ),
    "}",
    "",
  ].join("\n");

  it("splits a large function at statement boundaries under the maximum, keeping its path", async () => {
    const { chunks } = await chunkDocument(
      { path: "m.ts", content: bigFunction, language: "typescript" },
      { maxChunkTokens: 300 },
    );
    expect(chunks.length).toBeGreaterThan(5);
    checkInvariants(bigFunction, chunks);
    for (const chunk of chunks) {
      expect(chunk.tokenEstimate).toBeLessThanOrEqual(300);
      expect(chunk.symbolPath).toBe("function migrate");
      // Cuts fall between statements: every piece after the first starts with a comment of a step.
      if (chunk.ordinal > 0 && chunk.ordinal < chunks.length - 1)
        expect(chunk.text).toMatch(/^ {2}\/\/ Step \d+/);
    }
    expect(chunks[0]!.text.startsWith("export function migrate")).toBe(true);
  });

  it("merges consecutive small top-level declarations and imports into one chunk", async () => {
    const content = [
      'import a from "a";',
      'import b from "b";',
      "",
      "const ONE = 1;",
      "const TWO = 2;",
      "",
      "export function add(x: number) {",
      "  return x + ONE;",
      "}",
      "",
    ].join("\n");
    const { chunks, symbols } = await chunkDocument({ path: "s.ts", content, language: "typescript" });
    expect(paths(chunks)).toEqual(["1-9 function function add"]);
    expect(symbols.map((s) => s.path)).toEqual(["function add"]);
  });

  it("keeps whole a file that fails to parse in places (error nodes are covered too)", async () => {
    const content =
      "function ok() { return 1; }\n\nfunction broken( {\n  let x = ;\n}\n\nclass After { m() {} }\n";
    const { chunks } = await chunkDocument({ path: "e.js", content, language: "javascript" });
    checkInvariants(content, chunks);
  });
});

describe("Markdown", () => {
  it("cuts by headings with heading paths, ignoring # inside code fences, setext headings included", async () => {
    const { chunks, method } = await chunkFixture("guide.md.fixture", { smallChunkTokens: 0 });
    expect(method).toBe("markdown");
    expect(paths(chunks)).toEqual([
      "1-5 section ",
      "7-16 section Install > Linux",
      "18-20 section Install > macOS",
      "22-24 section Configure",
      "26-29 section Configure > Sources",
      "31-33 section Configure > Sources > Exclusions",
    ]);
  });

  it("merges small sections under their common heading path", async () => {
    const { chunks } = await chunkFixture("guide.md.fixture", { mergeUpToTokens: 60 });
    expect(chunks.map((c) => c.symbolPath)).toContain("Configure");
  });

  it("splits a long section at paragraph boundaries", async () => {
    const content = `# Big\n\n${Array.from({ length: 40 }, (_, i) => `Paragraph ${i} ${"lorem ipsum ".repeat(20)}`).join("\n\n")}\n`;
    const { chunks } = await chunkDocument(
      { path: "b.md", content, language: "markdown" },
      { maxChunkTokens: 200 },
    );
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.symbolPath).toBe("Big");
      expect(chunk.tokenEstimate).toBeLessThanOrEqual(200);
    }
    checkInvariants(content, chunks);
  });
});

describe("line windows and UTF-8 safety", () => {
  it("windows plain text with overlap", async () => {
    const content = Array.from({ length: 130 }, (_, i) => `line ${i + 1}`).join("\n");
    const { chunks, method } = await chunkDocument(
      { path: "a.txt", content, language: "text" },
      { windowLines: 50, overlapLines: 10 },
    );
    expect(method).toBe("lines");
    expect(chunks.map((c) => [c.startLine, c.endLine])).toEqual([
      [1, 50],
      [41, 90],
      [81, 130],
    ]);
  });

  it("never cuts inside a multi-byte character, even inside one very long line", async () => {
    const line = "日本語テキスト🙂ünïcödé ".repeat(400);
    const content = `${line}\nfin 🙂\n`;
    const { chunks } = await chunkDocument(
      { path: "u.txt", content, language: "text" },
      { maxChunkTokens: 50 },
    );
    expect(chunks.length).toBeGreaterThan(10);
    const bytes = Buffer.from(content, "utf8");
    for (const chunk of chunks) {
      expect(chunk.text).not.toContain("\uFFFD");
      expect(bytes.subarray(chunk.startByte, chunk.endByte).toString("utf8")).toBe(chunk.text);
      // A lone surrogate would mean a code point was cut.
      expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(chunk.text)).toBe(
        false,
      );
    }
    expect(chunks.map((c) => c.text).join("")).toBe(`${line}fin 🙂`);
  });

  it("keeps byte offsets exact in code with multi-byte identifiers and strings", async () => {
    const content =
      'const café = "naïve — 日本";\n\nfunction größe(ß: number) {\n  return "🙂".repeat(ß);\n}\n';
    const { chunks, symbols } = await chunkDocument({ path: "u.ts", content, language: "typescript" });
    checkInvariants(content, chunks);
    expect(symbols[0]?.name).toBe("größe");
  });
});
