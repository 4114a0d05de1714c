import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sqliteTerms } from "./fts5-reference.test-support.js";
import { porterStem } from "./porter.js";

/** Distinct lower-case ASCII words of this repository's own sources and docs. */
function repositoryWords(): string[] {
  const root = join(import.meta.dirname, "../../..");
  const words = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules" || name.startsWith(".") || name === "dist") continue;
      const path = join(dir, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (/\.(ts|tsx|md|mjs|json|py|go|rs|java)$/.test(name) && stat.size < 1_000_000) {
        for (const m of readFileSync(path, "utf8").matchAll(/[A-Za-z]+/g)) words.add(m[0].toLowerCase());
      }
    }
  };
  walk(root);
  return [...words];
}

/** Every suffix the rules look at, on stems of varied consonant/vowel shapes. */
function syntheticWords(): string[] {
  const stems = [
    "",
    "b",
    "a",
    "y",
    "e",
    "tr",
    "oa",
    "by",
    "ey",
    "yy",
    "cr",
    "bab",
    "hop",
    "fil",
    "fal",
    "rat",
    "sy",
    "conf",
    "gener",
    "relat",
    "condit",
    "valen",
    "hesit",
    "digit",
    "formal",
    "sensit",
    "electr",
    "hope",
    "goodn",
    "adjust",
    "depend",
    "activ",
    "communis",
    "feudal",
    "pow",
    "box",
    "play",
    "fizz",
    "tann",
    "controll",
    "roll",
    "x9",
    "a1b",
  ];
  const suffixes = [
    "",
    "s",
    "ss",
    "es",
    "ies",
    "sses",
    "ed",
    "eed",
    "ing",
    "at",
    "bl",
    "iz",
    "y",
    "ational",
    "tional",
    "enci",
    "anci",
    "izer",
    "logi",
    "bli",
    "alli",
    "entli",
    "eli",
    "ousli",
    "ization",
    "ation",
    "ator",
    "alism",
    "iveness",
    "fulness",
    "ousness",
    "aliti",
    "iviti",
    "biliti",
    "icate",
    "ative",
    "alize",
    "iciti",
    "ical",
    "ful",
    "ness",
    "al",
    "ance",
    "ence",
    "er",
    "ic",
    "able",
    "ible",
    "ant",
    "ement",
    "ment",
    "ent",
    "sion",
    "tion",
    "ion",
    "ou",
    "ism",
    "ate",
    "iti",
    "ous",
    "ive",
    "ize",
    "e",
    "ll",
    "le",
  ];
  const words = new Set<string>();
  for (const stem of stems) {
    for (const a of suffixes) {
      words.add(stem + a);
      for (const b of ["s", "ed", "ing", "ly", "es"]) words.add(stem + a + b);
    }
  }
  words.add("x".repeat(64));
  words.add(`${"x".repeat(60)}ness`);
  words.add(`${"x".repeat(61)}ness`);
  return [...words].filter((w) => w.length > 0);
}

describe("porterStem", () => {
  it("stems like SQLite's porter tokenizer, word for word", () => {
    const words = [...new Set([...repositoryWords(), ...syntheticWords()])];
    expect(words.length).toBeGreaterThan(5000);
    const expected = sqliteTerms(words, "porter unicode61");
    const mismatches = words
      .map((word, i) => ({ word, sqlite: expected[i]![0], ours: porterStem(word) }))
      .filter((m) => m.sqlite !== m.ours);
    expect(mismatches.slice(0, 20)).toEqual([]);
  });

  it("knows the textbook examples", () => {
    const stems = [
      "caresses",
      "ponies",
      "agreed",
      "hopping",
      "filing",
      "happy",
      "relational",
      "electrical",
    ].map(porterStem);
    expect(stems).toEqual(["caress", "poni", "agre", "hop", "file", "happi", "relat", "electr"]);
  });
});
