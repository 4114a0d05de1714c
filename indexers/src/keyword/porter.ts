/**
 * The Porter stemmer exactly as SQLite FTS5's `porter` tokenizer applies it
 * (the classic algorithm, with FTS5's own choices: tokens shorter than 3 or
 * longer than 64 bytes are left alone; in the `*v*` test a `y` is a vowel
 * anywhere but the first letter; a matched suffix whose condition fails
 * stops its step). The PostgreSQL keyword index stems with it so its terms
 * are the ones the SQLite index stores; `porter.test.ts` checks it against
 * SQLite's own output. Input: an ASCII lower-case token (what
 * `unicode61.ts` yields for the tokens a query can match).
 */

const MAX_TOKEN = 64;

function isVowel(c: string, yIsVowel: boolean): boolean {
  return c === "a" || c === "e" || c === "i" || c === "o" || c === "u" || (yIsVowel && c === "y");
}

/** Index just past the first vowel-consonant sequence of `s[from, to)`, or 0 if there is none. */
function gobbleVC(s: string, from: number, to: number, prevConsonant: boolean): number {
  let consonant = prevConsonant;
  let i = from;
  for (; i < to; i++) {
    consonant = !isVowel(s[i]!, consonant);
    if (!consonant) break;
  }
  for (i++; i < to; i++) {
    consonant = !isVowel(s[i]!, consonant);
    if (consonant) return i + 1;
  }
  return 0;
}

/** m > 0 for the stem `s[0, n)`. */
function mGt0(s: string, n: number): boolean {
  return gobbleVC(s, 0, n, false) !== 0;
}

/** m > 1. */
function mGt1(s: string, n: number): boolean {
  const first = gobbleVC(s, 0, n, false);
  return first !== 0 && gobbleVC(s, first, n, true) !== 0;
}

/** m = 1. */
function mEq1(s: string, n: number): boolean {
  const first = gobbleVC(s, 0, n, false);
  return first !== 0 && gobbleVC(s, first, n, true) === 0;
}

/** *o: the stem ends consonant-vowel-consonant, the last not w, x or y. */
function oStar(s: string, n: number): boolean {
  const last = s[n - 1];
  if (last === "w" || last === "x" || last === "y") return false;
  let mask = 0;
  let consonant = false;
  for (let i = 0; i < n; i++) {
    consonant = !isVowel(s[i]!, consonant);
    mask = ((mask << 1) + (consonant ? 1 : 0)) & 0xff;
  }
  return (mask & 7) === 5;
}

/** *v*: the stem holds a vowel (`y` counts except as the first letter). */
function hasVowel(s: string, n: number): boolean {
  for (let i = 0; i < n; i++) if (isVowel(s[i]!, i > 0)) return true;
  return false;
}

type Condition = (s: string, n: number) => boolean;

/** One rule: a suffix, the condition on the stem before it, and its replacement. */
type Rule = readonly [suffix: string, condition: Condition | null, replacement: string];

/**
 * Applies the first rule whose suffix ends `word` (longer than the suffix);
 * a matched suffix whose condition fails ends the step (no shorter suffix
 * is tried). Returns the word and the suffix of the rule that fired.
 */
function applyFirst(word: string, rules: readonly Rule[]): [string, string | null] {
  for (const [suffix, condition, replacement] of rules) {
    if (word.length > suffix.length && word.endsWith(suffix)) {
      const stem = word.length - suffix.length;
      if (condition && !condition(word, stem)) return [word, null];
      return [word.slice(0, stem) + replacement, suffix];
    }
  }
  return [word, null];
}

const mGt1SorT: Condition = (s, n) => (s[n - 1] === "s" || s[n - 1] === "t") && mGt1(s, n);

/*
 * FTS5 picks a step's candidate suffixes by the word's second-to-last
 * letter; within that group the first suffix that matches decides. Grouped
 * the same way here.
 */
const STEP1B: Record<string, readonly Rule[]> = {
  e: [
    ["eed", mGt0, "ee"],
    ["ed", hasVowel, ""],
  ],
  n: [["ing", hasVowel, ""]],
};

const STEP1B2: Record<string, readonly Rule[]> = {
  a: [["at", null, "ate"]],
  b: [["bl", null, "ble"]],
  i: [["iz", null, "ize"]],
};

const STEP2: Record<string, readonly Rule[]> = {
  a: [
    ["ational", mGt0, "ate"],
    ["tional", mGt0, "tion"],
  ],
  c: [
    ["enci", mGt0, "ence"],
    ["anci", mGt0, "ance"],
  ],
  e: [["izer", mGt0, "ize"]],
  g: [["logi", mGt0, "log"]],
  l: [
    ["bli", mGt0, "ble"],
    ["alli", mGt0, "al"],
    ["entli", mGt0, "ent"],
    ["eli", mGt0, "e"],
    ["ousli", mGt0, "ous"],
  ],
  o: [
    ["ization", mGt0, "ize"],
    ["ation", mGt0, "ate"],
    ["ator", mGt0, "ate"],
  ],
  s: [
    ["alism", mGt0, "al"],
    ["iveness", mGt0, "ive"],
    ["fulness", mGt0, "ful"],
    ["ousness", mGt0, "ous"],
  ],
  t: [
    ["aliti", mGt0, "al"],
    ["iviti", mGt0, "ive"],
    ["biliti", mGt0, "ble"],
  ],
};

const STEP3: Record<string, readonly Rule[]> = {
  a: [["ical", mGt0, "ic"]],
  s: [["ness", mGt0, ""]],
  t: [
    ["icate", mGt0, "ic"],
    ["iciti", mGt0, "ic"],
  ],
  u: [["ful", mGt0, ""]],
  v: [["ative", mGt0, ""]],
  z: [["alize", mGt0, "al"]],
};

const STEP4: Record<string, readonly Rule[]> = {
  a: [["al", mGt1, ""]],
  c: [
    ["ance", mGt1, ""],
    ["ence", mGt1, ""],
  ],
  e: [["er", mGt1, ""]],
  i: [["ic", mGt1, ""]],
  l: [
    ["able", mGt1, ""],
    ["ible", mGt1, ""],
  ],
  n: [
    ["ant", mGt1, ""],
    ["ement", mGt1, ""],
    ["ment", mGt1, ""],
    ["ent", mGt1, ""],
  ],
  o: [
    ["ion", mGt1SorT, ""],
    ["ou", mGt1, ""],
  ],
  s: [["ism", mGt1, ""]],
  t: [
    ["ate", mGt1, ""],
    ["iti", mGt1, ""],
  ],
  u: [["ous", mGt1, ""]],
  v: [["ive", mGt1, ""]],
  z: [["ize", mGt1, ""]],
};

function step(word: string, table: Record<string, readonly Rule[]>): [string, string | null] {
  const rules = word.length >= 2 ? table[word[word.length - 2]!] : undefined;
  return rules ? applyFirst(word, rules) : [word, null];
}

/** Step 1a: plurals (`sses` → `ss`, `ies` → `i`, `s` → ``, but `ss` stays). */
function step1a(w: string): string {
  const n = w.length;
  if (w[n - 1] !== "s") return w;
  if (w[n - 2] === "e") {
    if ((n > 4 && w[n - 4] === "s" && w[n - 3] === "s") || (n > 3 && w[n - 3] === "i")) return w.slice(0, -2);
    return w.slice(0, -1);
  }
  return w[n - 2] !== "s" ? w.slice(0, -1) : w;
}

/** The stem FTS5's porter tokenizer stores for an ASCII lower-case token. */
export function porterStem(token: string): string {
  if (token.length > MAX_TOKEN || token.length < 3) return token;
  const [stemmed, fired] = step(step1a(token), STEP1B);
  let w = stemmed;
  // Only removing -ed or -ing leads to the clean-up below (-eed → -ee does not).
  if (fired === "ed" || fired === "ing") {
    let extended: string | null;
    [w, extended] = step(w, STEP1B2);
    if (extended === null) {
      const n = w.length;
      const c = w[n - 1]!;
      if (!isVowel(c, false) && c !== "l" && c !== "s" && c !== "z" && n >= 2 && c === w[n - 2]) {
        w = w.slice(0, -1);
      } else if (mEq1(w, n) && oStar(w, n)) {
        w += "e";
      }
    }
  }
  // Step 1c: a final y after a vowel-bearing stem becomes i.
  if (w[w.length - 1] === "y" && hasVowel(w, w.length - 1)) w = `${w.slice(0, -1)}i`;
  [w] = step(w, STEP2);
  [w] = step(w, STEP3);
  [w] = step(w, STEP4);
  // Step 5a: drop a final e.
  const n5 = w.length;
  if (w[n5 - 1] === "e" && (mGt1(w, n5 - 1) || (mEq1(w, n5 - 1) && !oStar(w, n5 - 1)))) w = w.slice(0, -1);
  // Step 5b: ll → l when m > 1.
  const n = w.length;
  if (n > 1 && w[n - 1] === "l" && w[n - 2] === "l" && mGt1(w, n - 1)) w = w.slice(0, -1);
  return w;
}
