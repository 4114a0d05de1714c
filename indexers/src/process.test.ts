import { describe, expect, it } from "vitest";
import { Chunk, contentHash, Document, SymbolDef } from "./document.js";
import { processDocument } from "./process.js";
import { compileExclusions } from "./safety/exclusions.js";

const source = [
  'import { Pool } from "pg";',
  "",
  `const url = "postgres://app:${"Sup3r-secret"}@db:5432/app";`,
  "",
  "/** Opens the pool. */",
  "export function connect(): Pool {",
  "  return new Pool({ connectionString: url });",
  "}",
  "",
].join("\n");

describe("processDocument", () => {
  it("redacts, then chunks; the stored document and chunks validate against their schemas", async () => {
    const result = await processDocument({
      sourceId: "src-1",
      path: "src/db.ts",
      content: source,
      metadata: { ref: "main" },
    });
    expect(result.skipped).toBeUndefined();
    expect(result.redactions).toEqual({ "connection-string-password": 1 });
    expect(Document.parse(result.document)).toMatchObject({
      language: "typescript",
      mediaType: "text/x-typescript",
      contentHash: contentHash(source),
      metadata: { ref: "main" },
    });
    expect(result.document!.content).not.toContain("Sup3r");
    for (const chunk of result.chunks) {
      Chunk.parse(chunk);
      expect(chunk.text).not.toContain("Sup3r");
    }
    for (const symbol of result.symbols) SymbolDef.parse(symbol);
    expect(result.symbols.map((s) => s.path)).toEqual(["function connect"]);
    // Redaction keeps lines where they were.
    expect(result.chunks.at(-1)!.endLine).toBe(8);
  });

  it("takes raw bytes and detects binary before decoding", async () => {
    const bytes = new TextEncoder().encode(source);
    const result = await processDocument({ sourceId: "s", path: "src/db.ts", content: bytes });
    expect(result.document?.contentHash).toBe(contentHash(source));
    const binary = await processDocument({
      sourceId: "s",
      path: "img.dat",
      content: Uint8Array.from([1, 0, 2, 0]),
    });
    expect(binary).toMatchObject({ skipped: "binary", chunks: [], symbols: [] });
  });

  it("skips excluded paths before reading anything else, naming the pattern", async () => {
    const result = await processDocument({ sourceId: "s", path: "deploy/.env.production", content: "A=1" });
    expect(result).toMatchObject({ skipped: "excluded", skipDetail: ".env.*" });
    const custom = await processDocument(
      { sourceId: "s", path: "internal/notes.md", content: "# x" },
      { exclusions: compileExclusions(["internal/**"]) },
    );
    expect(custom.skipped).toBe("excluded");
  });

  it("reports the classification reason for skipped files", async () => {
    expect((await processDocument({ sourceId: "s", path: "yarn.lock", content: "x" })).skipped).toBe(
      "lockfile",
    );
    expect(
      (await processDocument({ sourceId: "s", path: "node_modules/a/b.js", content: "x" })).skipped,
    ).toBe("vendored");
    expect(
      (
        await processDocument(
          { sourceId: "s", path: "a.ts", content: "x".repeat(100) },
          { classify: { maxBytes: 10 } },
        )
      ).skipped,
    ).toBe("oversize");
  });

  it("handles empty files", async () => {
    const result = await processDocument({ sourceId: "s", path: "empty.py", content: "" });
    expect(result.chunks).toEqual([]);
    expect(result.skipped).toBeUndefined();
  });
});
