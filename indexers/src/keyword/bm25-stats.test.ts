import { describe, expect, it } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { reachableKeywordIndexes } from "./adapters.test-support.js";

async function put(index: KeywordIndex, path: string, content: string): Promise<void> {
  const processed = await processDocument({ sourceId: "s", path, content });
  if (!processed.document || processed.skipped) throw new Error(`not indexed: ${path}`);
  await index.upsert({
    document: processed.document,
    chunks: processed.chunks,
    symbols: processed.symbols,
    redactions: processed.redactions,
    bytes: Buffer.byteLength(content),
  });
}

const version = (n: number) =>
  `def handle_request_${n}(request):\n    """Answers request number ${n} with a cached response."""\n    return cache.get(request.path) or fetch_response(request)\n`;
const others: Record<string, string> = {
  "a.py": "def parse_header(line):\n    return line.split(':', 1)\n",
  "b.py": "def cache_response(response):\n    store[response.url] = response\n",
  "c.md": "# Requests\n\nEvery request is logged with its response time.\n",
};

describe.each(reachableKeywordIndexes())("BM25 statistics on $name", (fixture) => {
  it("after many re-indexes of one file, scores equal those of an index built from the final files", async () => {
    const edited = await fixture.open();
    await edited.index.upsertSource({ id: "s", root: "/r" });
    for (const [path, content] of Object.entries(others)) await put(edited.index, path, content);
    for (let n = 0; n < 20; n++) await put(edited.index, "handler.py", version(n));
    await edited.index.delete("s", "b.py");

    const fresh = await fixture.open();
    await fresh.index.upsertSource({ id: "s", root: "/r" });
    for (const [path, content] of Object.entries(others))
      if (path !== "b.py") await put(fresh.index, path, content);
    await put(fresh.index, "handler.py", version(19));

    for (const query of ["request", "cached response", "handle request 19", "parse header"]) {
      const a = await edited.index.search({ query, limit: 10 });
      const b = await fresh.index.search({ query, limit: 10 });
      expect(
        a.map((h) => [h.path, h.score]),
        query,
      ).toEqual(b.map((h) => [h.path, h.score]));
    }
  });
});
