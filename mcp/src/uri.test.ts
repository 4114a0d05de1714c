import { describe, expect, it } from "vitest";
import { documentUri, parseDocumentUri } from "./uri.js";

describe("conhub:// document URIs", () => {
  it("round-trips source ids and paths that a URL authority could not hold", () => {
    const cases: Array<[string, string]> = [
      ["repo-a", "src/app.ts"],
      ["local:3f2a9c0d11aa22bb", "README.md"],
      ["github.com/acme/api", "docs/a b/ünïcode #1?.md"],
      ["drive", "100%/done.txt"],
    ];
    for (const [sourceId, path] of cases) {
      const uri = documentUri(sourceId, path);
      expect(uri.startsWith("conhub://")).toBe(true);
      expect(uri.slice("conhub://".length).split("/")[0]).not.toMatch(/[:/]/);
      expect(parseDocumentUri(uri)).toEqual({ ok: true, ref: { sourceId, path } });
    }
    expect(documentUri("local:ab", "src/x.ts")).toBe("conhub://local%3Aab/src/x.ts");
  });

  it("accepts what a model types: unencoded ids and paths, a line fragment", () => {
    expect(parseDocumentUri("conhub://local:ab/src/x.ts")).toEqual({
      ok: true,
      ref: { sourceId: "local:ab", path: "src/x.ts" },
    });
    expect(parseDocumentUri("CONHUB://repo/a%zz.txt")).toEqual({
      ok: true,
      ref: { sourceId: "repo", path: "a%zz.txt" },
    });
    expect(parseDocumentUri("conhub://repo/a.ts#L4-L11")).toEqual({
      ok: true,
      ref: { sourceId: "repo", path: "a.ts", lines: { start: 4, end: 11 } },
    });
    expect(parseDocumentUri("conhub://repo/a.ts#L7")).toMatchObject({ ref: { lines: { start: 7, end: 7 } } });
    expect(parseDocumentUri("conhub://repo/a.ts#L9-L3")).toEqual({
      ok: true,
      ref: { sourceId: "repo", path: "a.ts" },
    });
    expect(documentUri("repo", "a.ts", { start: 4, end: 11 })).toBe("conhub://repo/a.ts#L4-L11");
  });

  it("refuses anything else with the expected form", () => {
    for (const uri of [
      "file:///etc/passwd",
      "conhub://",
      "conhub://repo",
      "conhub://repo/",
      "conhub:///a.ts",
      "repo/a.ts",
    ]) {
      const parsed = parseDocumentUri(uri);
      expect(parsed.ok, uri).toBe(false);
      if (!parsed.ok) expect(parsed.reason).toContain("conhub://<sourceId>/<path>");
    }
  });
});
