import { describe, expect, it } from "vitest";
import { sqliteTerms } from "./fts5-reference.test-support.js";
import { unicode61Tokens } from "./unicode61.js";
import {
  UNICODE61_ASCII_FOLDS,
  UNICODE61_CONTINUE_RANGES,
  UNICODE61_TOKEN_RANGES,
} from "./unicode61-data.js";
import { asciiFolds, encodeRanges, probeUnicode61, toRanges } from "./unicode61-probe.js";

describe("unicode61 data", () => {
  it("matches the SQLite in use over the Basic Multilingual Plane (regenerate with unicode61-probe.ts)", () => {
    const probe = probeUnicode61(128, 0xffff);
    const bmp = (encoded: string) => {
      // Decode, keep the part below U+10000, encode again.
      const points: number[] = [];
      let at = 0;
      for (const part of encoded.split(",")) {
        const [gap, length] = part.split(".");
        const start = at + Number.parseInt(gap!, 36);
        const end = start + Number.parseInt(length!, 36);
        for (let c = start; c <= Math.min(end, 0xffff); c++) points.push(c);
        at = end;
      }
      return encodeRanges(toRanges(points));
    };
    expect(encodeRanges(toRanges(probe.tokenChars))).toBe(bmp(UNICODE61_TOKEN_RANGES));
    expect(encodeRanges(toRanges(probe.continueOnly))).toBe(bmp(UNICODE61_CONTINUE_RANGES));
    const folds = asciiFolds(probe)
      .map(([c, f]) => `${c.toString(36)}:${f}`)
      .join(",");
    expect(UNICODE61_ASCII_FOLDS.startsWith(folds)).toBe(true);
  });
});

describe("unicode61 tokens", () => {
  it("splits and folds text like SQLite's unicode61 tokenizer", () => {
    const texts = [
      "parseHTTPResponse parse_http_response x2 42abc",
      "Café naïve résumé Ångström ÉCOLE Straße İstanbul ǅungla",
      "cafe\u0301 e\u0301t\u0301e\u0301 \u0301alone a\u0308b",
      "日本語のテキスト 中文 한국어 Ελληνικά Русский текст עברית العربية",
      "emoji 😀 between 👍🏽 words 𝒜𝓁𝓅𝒽𝒶 𝟙𝟚𝟛 ﬁnance Ｆｕｌｌｗｉｄｔｈ",
      "lone \ud800 surrogate \udc00 here \ufffe\uffff end",
      "tabs\tand\nnewlines\r\nand\u00a0nbsp\u2003em\u3000ideographic",
      "K Kelvin ſ long s ß ẞ µ Å",
      `${"a".repeat(70)} ${"B".repeat(3)}`,
    ];
    const expected = sqliteTerms(texts, "unicode61");
    texts.forEach((text, i) => {
      const ours = unicode61Tokens(text);
      const theirs = expected[i]!;
      expect(ours.length, text).toBe(theirs.length);
      // Tokens that stay ASCII after folding are the ones a query can match: those must be equal.
      const asciiTheirs = theirs.map((t) => (/^[a-z0-9]*$/.test(t) ? t : null));
      expect(ours, text).toEqual(asciiTheirs);
    });
  });
});
