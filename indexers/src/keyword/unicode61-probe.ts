import { writeFileSync } from "node:fs";
import Database from "better-sqlite3";

/**
 * Learns how SQLite FTS5's `unicode61` tokenizer (default options:
 * categories `L* N* Co`, remove_diacritics 1) treats each code point, by
 * running it through a real FTS5 table, so `unicode61.ts` can tokenize
 * exactly as SQLite does without SQLite. Run this file to regenerate
 * `unicode61-data.ts` (`npx tsx indexers/src/keyword/unicode61-probe.ts`,
 * ~30 s); `unicode61.test.ts` checks the data against the SQLite in use.
 *
 * For each code point `c`, two columns: `c` alone (does it start a token?)
 * and `a c b` (does it continue one, and what does it fold to?).
 */

export interface Unicode61Probe {
  sqliteVersion: string;
  /** Code points (≥ 128) that start and continue tokens. */
  tokenChars: number[];
  /** Code points that continue a token but cannot start one (diacritics). */
  continueOnly: number[];
  /** Fold of every token character (and diacritic): the text it becomes inside a token. */
  folds: Map<number, string>;
  /** ASCII code points that are token characters. */
  asciiTokenChars: number[];
}

export function probeUnicode61(from: number, to: number): Unicode61Probe {
  const db = new Database(":memory:");
  try {
    db.exec("create virtual table t using fts5(alone, inside, tokenize = 'unicode61')");
    db.exec("create virtual table v using fts5vocab(t, 'instance')");
    const insert = db.prepare("insert into t (rowid, alone, inside) values (?, ?, ?)");
    db.transaction(() => {
      for (let c = from; c <= to; c++) {
        if (c >= 0xd800 && c <= 0xdfff) continue;
        const ch = String.fromCodePoint(c);
        insert.run(c, ch, `a${ch}b`);
      }
    })();
    const alone = new Map<number, string>();
    const inside = new Map<number, string[]>();
    const rows = db.prepare("select term, doc, col, offset from v").raw().all() as [
      string,
      number,
      string,
      number,
    ][];
    for (const [term, doc, col, offset] of rows) {
      if (col === "alone") alone.set(doc, term);
      else {
        const terms = inside.get(doc) ?? [];
        terms[offset] = term;
        inside.set(doc, terms);
      }
    }
    const probe: Unicode61Probe = {
      sqliteVersion: (db.prepare("select sqlite_version() as v").get() as { v: string }).v,
      tokenChars: [],
      continueOnly: [],
      folds: new Map(),
      asciiTokenChars: [],
    };
    for (let c = from; c <= to; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const terms = inside.get(c) ?? [];
      const starts = alone.has(c);
      const continues = terms.length === 1;
      if (!continues && !(terms.length === 2 && terms[0] === "a" && terms[1] === "b")) {
        throw new Error(`unexpected unicode61 tokens for U+${c.toString(16)}: ${JSON.stringify(terms)}`);
      }
      if (starts && !continues)
        throw new Error(`U+${c.toString(16)} starts a token but does not continue one`);
      if (!continues) continue;
      const fold = terms[0]!.slice(1, -1);
      if (starts && alone.get(c) !== fold) throw new Error(`U+${c.toString(16)} folds differently alone`);
      if (c < 128) {
        if (!starts) throw new Error(`ASCII U+${c.toString(16)} continues a token without starting one`);
        probe.asciiTokenChars.push(c);
        if (fold !== String.fromCharCode(c).toLowerCase()) throw new Error(`ASCII U+${c} folds to ${fold}`);
        continue;
      }
      (starts ? probe.tokenChars : probe.continueOnly).push(c);
      probe.folds.set(c, fold);
    }
    return probe;
  } finally {
    db.close();
  }
}

/** `[start, end]` runs of consecutive code points. */
export function toRanges(points: readonly number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const p of points) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] === p - 1) last[1] = p;
    else ranges.push([p, p]);
  }
  return ranges;
}

/** Ranges as base-36 `gap.length` pairs, each gap counted from the previous range's end. */
export function encodeRanges(ranges: ReadonlyArray<readonly [number, number]>): string {
  let at = 0;
  return ranges
    .map(([start, end]) => {
      const out = `${(start - at).toString(36)}.${(end - start).toString(36)}`;
      at = end;
      return out;
    })
    .join(",");
}

/** The folds that matter to the index: to ASCII letters/digits or to nothing (everything else stays non-ASCII). */
export function asciiFolds(probe: Unicode61Probe): Array<[number, string]> {
  return [...probe.folds].filter(([, fold]) => /^[a-z0-9]*$/.test(fold)).sort((a, b) => a[0] - b[0]);
}

function generate(): void {
  const probe = probeUnicode61(1, 0x10ffff);
  const expectedAscii = [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"].map((c) =>
    c.charCodeAt(0),
  );
  if (probe.asciiTokenChars.join() !== expectedAscii.join())
    throw new Error("unicode61's ASCII token characters are no longer [0-9A-Za-z]");
  const folds = asciiFolds(probe)
    .map(([c, f]) => `${c.toString(36)}:${f}`)
    .join(",");
  const text = `// Generated by unicode61-probe.ts from SQLite ${probe.sqliteVersion}'s FTS5 unicode61 tokenizer. Do not edit.

/** The SQLite version the tables below were learned from. */
export const UNICODE61_SQLITE_VERSION = "${probe.sqliteVersion}";

/** Non-ASCII token characters (categories L*, N*, Co as SQLite knows them): base-36 \`gap.length\` ranges. */
export const UNICODE61_TOKEN_RANGES =
  "${encodeRanges(toRanges(probe.tokenChars))}";

/** Code points that continue a token but do not start one (diacritics): same encoding. */
export const UNICODE61_CONTINUE_RANGES = "${encodeRanges(toRanges(probe.continueOnly))}";

/** Non-ASCII code points that fold to an ASCII letter or digit, or to nothing: base-36 \`code:fold\`. */
export const UNICODE61_ASCII_FOLDS =
  "${folds}";
`;
  const target = new URL("./unicode61-data.ts", import.meta.url);
  writeFileSync(target, text);
  process.stdout.write(
    `wrote ${target.pathname}: ${probe.tokenChars.length} token characters, ${probe.continueOnly.length} diacritics, ${asciiFolds(probe).length} ASCII folds\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) generate();
