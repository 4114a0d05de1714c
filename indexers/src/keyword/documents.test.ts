import { describe, expect, it } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { reachableKeywordIndexes } from "./adapters.test-support.js";

async function put(index: KeywordIndex, sourceId: string, path: string, content: string): Promise<void> {
  const processed = await processDocument({ sourceId, path, content });
  if (!processed.document || processed.skipped) throw new Error(`not indexed: ${path}`);
  await index.upsert({
    document: processed.document,
    chunks: processed.chunks,
    symbols: processed.symbols,
    redactions: processed.redactions,
    bytes: Buffer.byteLength(content),
  });
}

const PY = `import os\n\n\ndef first(x):\n    return x + 1\n\n\ndef second(y):\n    return y * 2\n`;

describe.each(reachableKeywordIndexes())("documents on $name", (fixture) => {
  it("reads a document back with its chunks in order, and lists a source's documents by path", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "pkg/mod.py", PY);
    await put(index, "s1", "pkg/a.md", "# Title\n\nSome words.\n");
    await put(index, "s1", "zeta.py", "def z():\n    pass\n");
    await put(index, "s2", "pkg/other.py", "def other():\n    pass\n");

    const doc = await index.document("s1", "pkg/mod.py");
    expect(doc).toMatchObject({ sourceId: "s1", path: "pkg/mod.py", language: "python", bytes: PY.length });
    expect(doc!.chunks.map((c) => c.ordinal)).toEqual([...doc!.chunks.keys()]);
    expect(doc!.chunks.map((c) => c.text).join("\n")).toContain("def second(y):");
    expect(doc!.chunks.at(-1)!.endLine).toBe(9);
    expect(await index.document("s1", "missing.py")).toBeUndefined();
    expect(await index.document("s2", "pkg/mod.py")).toBeUndefined();

    expect((await index.documents("s1")).map((d) => d.path)).toEqual(["pkg/a.md", "pkg/mod.py", "zeta.py"]);
    expect((await index.documents("s1", { prefix: "pkg/" })).map((d) => d.path)).toEqual([
      "pkg/a.md",
      "pkg/mod.py",
    ]);
    const page1 = await index.documents("s1", { limit: 2 });
    const page2 = await index.documents("s1", { limit: 2, after: page1.at(-1)!.path });
    expect([...page1, ...page2].map((d) => d.path)).toEqual(["pkg/a.md", "pkg/mod.py", "zeta.py"]);
    expect(page1[1]).toMatchObject({ language: "python", chunks: doc!.chunks.length });
  });
});
