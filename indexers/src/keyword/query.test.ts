import { describe, expect, it } from "vitest";
import {
  highlightRanges,
  renderHighlights,
  requiredLiterals,
  searchTerms,
  trigramMatchExpression,
} from "./query.js";

describe("requiredLiterals", () => {
  it("extracts the literal runs a regex requires", () => {
    expect(requiredLiterals("handleRequest")).toEqual([["handleRequest"]]);
    expect(requiredLiterals(String.raw`def \w+_token\(`)).toEqual([["def ", "_token("]]);
    expect(requiredLiterals("foo|barbaz")).toEqual([["foo"], ["barbaz"]]);
    expect(requiredLiterals("colou?r_name")).toEqual([["colo", "r_name"]]);
    expect(requiredLiterals("abc+def")).toEqual([["abc", "def"]]);
    expect(requiredLiterals("(get|set)Value")).toEqual([["Value"]]);
    expect(requiredLiterals(String.raw`import\s+\{[^}]*\}\s+from`)).toEqual([["import", "from"]]);
    expect(requiredLiterals(String.raw`a\.b\.c`)).toEqual([["a.b.c"]]);
  });

  it("gives up when an alternative requires nothing long enough", () => {
    expect(requiredLiterals(String.raw`\d+`)).toBeUndefined();
    expect(requiredLiterals("ab|abcdef")).toBeUndefined();
    expect(requiredLiterals("x*yz")).toBeUndefined();
  });

  it("turns literals into ANDed trigrams", () => {
    expect(trigramMatchExpression([["Abcd"], ['a"bc']])).toBe('("abc" AND "bcd") OR ("a""b" AND """bc")');
  });
});

describe("search terms and highlights", () => {
  it("drops stop words when meaningful terms remain", () => {
    expect(searchTerms("how do we parse the HTTP response")).toEqual(["parse", "http", "response"]);
    expect(searchTerms("the")).toEqual(["the"]);
  });

  it("highlights whole identifiers and their parts", () => {
    const line = "export function parseHttpResponse(raw) { return parse(raw) }";
    const ranges = highlightRanges(line, ["parse", "response"]);
    expect(renderHighlights(line, ranges)).toBe(
      "export function [parse]Http[Response](raw) { return [parse](raw) }",
    );
    expect(renderHighlights(line, highlightRanges(line, ["parsehttpresponse"]))).toContain(
      "[parseHttpResponse]",
    );
  });
});
