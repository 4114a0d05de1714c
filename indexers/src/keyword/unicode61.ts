import {
  UNICODE61_ASCII_FOLDS,
  UNICODE61_CONTINUE_RANGES,
  UNICODE61_TOKEN_RANGES,
} from "./unicode61-data.js";

/**
 * SQLite FTS5's `unicode61` tokenizer (default options) in TypeScript, so
 * the PostgreSQL keyword index counts and names tokens exactly as the
 * SQLite index does (BM25 depends on both). A token is a run of token
 * characters (ASCII letters and digits; beyond ASCII, what SQLite's tables
 * say: `unicode61-data.ts`, learned from SQLite itself), folded to lower
 * case with diacritics removed (`é` → `e`, a combining accent → nothing).
 *
 * Queries only ever ask for ASCII terms (`queryTerms` keeps `[a-z0-9]`), so
 * a token that keeps a non-ASCII character after folding (`straße`,
 * `日本`) can never match one: it is reported as `null`, which still counts
 * towards the column's length, as in SQLite.
 */

/** FTS5 truncates longer tokens to this many bytes (FTS5_MAX_TOKEN_SIZE). */
const MAX_TOKEN_BYTES = 32768;

function decodeRanges(encoded: string): Int32Array {
  const parts = encoded.split(",");
  const out = new Int32Array(parts.length * 2);
  let at = 0;
  parts.forEach((part, i) => {
    const [gap, length] = part.split(".");
    const start = at + Number.parseInt(gap!, 36);
    const end = start + Number.parseInt(length!, 36);
    out[i * 2] = start;
    out[i * 2 + 1] = end;
    at = end;
  });
  return out;
}

const TOKEN_RANGES = decodeRanges(UNICODE61_TOKEN_RANGES);
const CONTINUE_RANGES = decodeRanges(UNICODE61_CONTINUE_RANGES);

function inRanges(ranges: Int32Array, cp: number): boolean {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[mid * 2]!) hi = mid - 1;
    else if (cp > ranges[mid * 2 + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Per BMP code point: 0 separator, 1 token character, 2 continues a token only (diacritic). */
const BMP_CLASS = new Uint8Array(0x10000);
for (let cp = 0; cp < 0x10000; cp++) {
  if (cp < 128) {
    BMP_CLASS[cp] = (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) ? 1 : 0;
  } else if (cp >= 0xd800 && cp <= 0xdfff) {
    BMP_CLASS[cp] = 0; // a lone surrogate reaches SQLite as U+FFFD, a separator
  } else if (inRanges(TOKEN_RANGES, cp)) BMP_CLASS[cp] = 1;
  else if (inRanges(CONTINUE_RANGES, cp)) BMP_CLASS[cp] = 2;
}

function classOf(cp: number): number {
  if (cp < 0x10000) return BMP_CLASS[cp]!;
  return inRanges(TOKEN_RANGES, cp) ? 1 : inRanges(CONTINUE_RANGES, cp) ? 2 : 0;
}

/** Non-ASCII code points whose fold is ASCII (or nothing). */
const ASCII_FOLDS = new Map<number, string>(
  UNICODE61_ASCII_FOLDS.split(",").map((pair) => {
    const [code, fold] = pair.split(":");
    return [Number.parseInt(code!, 36), fold!];
  }),
);

/**
 * Calls `onToken` for every token of `text`, in order: the folded token
 * when it is ASCII, else `null`.
 */
export function forEachUnicode61Token(text: string, onToken: (token: string | null) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    // Skip separators up to the first character that starts a token.
    let cp = text.charCodeAt(i);
    let width = 1;
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        width = 2;
      }
    }
    if (classOf(cp) !== 1) {
      i += width;
      continue;
    }
    // A token. ASCII letters and digits only (the common case): a slice, lower-cased.
    const start = i;
    let upper = false;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c >= 128 || BMP_CLASS[c] === 0) break;
      if (c <= 90 && c >= 65) upper = true;
      i++;
    }
    let token = upper ? text.slice(start, i).toLowerCase() : text.slice(start, i);
    let ascii = true;
    if (i < n && text.charCodeAt(i) >= 128) {
      // Beyond ASCII: fold character by character until a separator.
      let bytes = token.length;
      while (i < n) {
        cp = text.charCodeAt(i);
        width = 1;
        if (cp < 128) {
          if (BMP_CLASS[cp] === 0) break;
          if (bytes < MAX_TOKEN_BYTES) token += cp <= 90 && cp >= 65 ? String.fromCharCode(cp + 32) : text[i];
          bytes++;
          i++;
          continue;
        }
        if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < n) {
          const low = text.charCodeAt(i + 1);
          if (low >= 0xdc00 && low <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            width = 2;
          }
        }
        if (classOf(cp) === 0) break;
        const fold = ASCII_FOLDS.get(cp);
        if (fold === undefined) ascii = false;
        else if (fold !== "") {
          if (bytes < MAX_TOKEN_BYTES) token += fold;
          bytes++;
        }
        i += width;
      }
    }
    if (ascii && token.length > MAX_TOKEN_BYTES) token = token.slice(0, MAX_TOKEN_BYTES);
    onToken(ascii ? token : null);
  }
}

/** The tokens of `text` (`null` for the non-ASCII ones), for tests and queries. */
export function unicode61Tokens(text: string): Array<string | null> {
  const tokens: Array<string | null> = [];
  forEachUnicode61Token(text, (t) => tokens.push(t));
  return tokens;
}
