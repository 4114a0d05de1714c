import { describe, expect, it } from "vitest";
import {
  expansionTerms,
  ftsText,
  identifierTokens,
  queryTerms,
  splitIdentifier,
  tokenize,
} from "./tokenize.js";

describe("identifier tokens", () => {
  it.each([
    ["parseHTTPResponse2", ["parse", "http", "response", "2"]],
    ["XMLHttpRequest", ["xml", "http", "request"]],
    ["snake_case_name", ["snake", "case", "name"]],
    ["kebab-case", ["kebab", "case"]],
    ["SCREAMING_SNAKE", ["screaming", "snake"]],
    ["getV2Items", ["get", "v", "2", "items"]],
    ["i18n", ["i", "18", "n"]],
    ["simple", ["simple"]],
  ])("%s → %j", (identifier, parts) => {
    expect(splitIdentifier(identifier)).toEqual(parts);
  });

  it("keeps the whole identifier, lower-cased, beside its parts", () => {
    expect(identifierTokens("parseHTTPResponse2")).toEqual([
      "parse",
      "http",
      "response",
      "2",
      "parsehttpresponse2",
    ]);
    expect(identifierTokens("simple")).toEqual(["simple"]);
    expect(tokenize("const userId = getUserId();")).toEqual([
      "const",
      "user",
      "id",
      "userid",
      "get",
      "user",
      "id",
      "getuserid",
    ]);
  });

  it("gives FTS5 the original text plus each compound identifier's parts and joined form once", () => {
    const text = "const maxRetryCount = 3;\nretry(maxRetryCount);";
    expect(expansionTerms(text)).toEqual(["max", "retry", "count", "maxretrycount"]);
    expect(ftsText(text)).toBe(`${text}\nmax retry count maxretrycount`);
    expect(ftsText("plain words only")).toBe("plain words only");
  });

  it("turns queries into the same forms", () => {
    expect(queryTerms("parse_http_response")).toEqual(["parsehttpresponse", "parse", "http", "response"]);
    expect(queryTerms("retry count")).toEqual(["retry", "count"]);
  });
});
