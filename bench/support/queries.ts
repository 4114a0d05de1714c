import type { ProcessedDocument } from "./corpus.js";
import { gaussian } from "./synthetic-minilm.js";

/**
 * Realistic queries drawn from a processed corpus, deterministically:
 * - identifiers: names of defined symbols (`maybeUpdateMetadata`, `TopicPartition`);
 * - phrases: two to four consecutive words of a comment (`leader epoch cache`);
 * - sentences: the first sentence of a doc comment (`Returns the offset of the last committed record.`);
 * and grep patterns: identifiers and code fragments as literals (escaped), and
 * common regular expressions, some with a required literal (trigram
 * prefilter), some without (a scan of every chunk).
 */

export type QueryKind = "identifier" | "phrase" | "sentence";

export interface BenchQuery {
  kind: QueryKind;
  text: string;
}

export type GrepKind = "literal" | "regex" | "regex-scan";

export interface BenchGrep {
  kind: GrepKind;
  pattern: string;
}

/** A deterministic shuffle-and-take. */
function pick<T>(items: readonly T[], count: number, seed: number): T[] {
  const random = gaussian(seed, 1);
  const keyed = items.map((item) => ({ item, key: random() }));
  keyed.sort((a, b) => a.key - b.key);
  return keyed.slice(0, count).map((k) => k.item);
}

const DOC_COMMENT = /\/\*\*([\s\S]*?)\*\//g;
const LINE_COMMENT = /(?:^|\s)(?:\/\/|#)\s?([^\n]*)/g;

function commentText(body: string): string {
  return body
    .split("\n")
    .map((l) => l.replace(/^\s*\*\s?/, ""))
    .filter((l) => !/^\s*@/.test(l))
    .join(" ")
    .replace(/\{@\w+\s+([^}]*)\}/g, "$1")
    .replace(/<[^>]+>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function firstSentence(body: string): string | undefined {
  const text = commentText(body);
  const sentence = text.match(/^(.{20,200}?[.!?])(\s|$)/)?.[1];
  if (!sentence || sentence.split(" ").length < 4) return undefined;
  return sentence;
}

export function deriveQueries(documents: readonly ProcessedDocument[], perKind: number): BenchQuery[] {
  const identifiers = new Set<string>();
  const sentences = new Set<string>();
  const phrases = new Set<string>();
  for (const doc of documents) {
    for (const symbol of doc.symbols) {
      if (symbol.name.length >= 6 && /^[A-Za-z_][A-Za-z0-9_]*$/.test(symbol.name))
        identifiers.add(symbol.name);
    }
    for (const chunk of doc.chunks) {
      for (const m of chunk.text.matchAll(DOC_COMMENT)) {
        const s = firstSentence(m[1] ?? "");
        if (s) sentences.add(s);
        const words = commentText(m[1] ?? "")
          .toLowerCase()
          .split(/[^a-z]+/)
          .filter((w) => w.length >= 3);
        if (words.length >= 4) phrases.add(words.slice(1, 2 + (words.length % 3)).join(" "));
      }
      for (const m of chunk.text.matchAll(LINE_COMMENT)) {
        const words = (m[1] ?? "")
          .toLowerCase()
          .split(/[^a-z]+/)
          .filter((w) => w.length >= 3);
        if (words.length >= 3) phrases.add(words.slice(0, 2 + (words.length % 3)).join(" "));
      }
    }
  }
  return [
    ...pick([...identifiers].sort(), perKind, 1).map((text) => ({ kind: "identifier" as const, text })),
    ...pick([...phrases].sort(), perKind, 2).map((text) => ({ kind: "phrase" as const, text })),
    ...pick([...sentences].sort(), perKind, 3).map((text) => ({ kind: "sentence" as const, text })),
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Regular expressions a developer greps a Java/Scala/Python code base with. */
const REGEXES = [
  "public \\w+ get\\w+\\(\\)",
  "catch \\(\\w+Exception \\w+\\)",
  'log\\.(warn|error)\\("',
  "TODO|FIXME",
  'throw new \\w+Exception\\("[^"]*timeout',
  "private static final long \\w+_MS",
  "assertEquals\\(\\d+, ",
  "Map<String, \\w+>",
  "synchronized \\(\\w+\\)",
  "import org\\.apache\\.kafka\\.common\\.errors\\.\\w+;",
  "String\\.format\\(",
  "Optional\\.empty\\(\\)",
  "\\.thenCompose\\(",
  "def \\w+\\(self",
  "@Override\\s+public void close",
  "new ConcurrentHashMap<>",
];
/** Without a literal of three characters: every chunk is scanned. */
const SCAN_REGEXES = ["\\b\\d+\\.\\d+\\.\\d+\\b", "[A-Z_]{30,}", "\\w+ = \\w+ \\? \\w+ : \\w+;"];

export function deriveGreps(documents: readonly ProcessedDocument[], literals: number): BenchGrep[] {
  const identifiers = new Set<string>();
  const fragments = new Set<string>();
  for (const doc of documents) {
    for (const symbol of doc.symbols) if (symbol.name.length >= 8) identifiers.add(symbol.name);
    for (const chunk of doc.chunks) {
      for (const m of chunk.text.matchAll(/new [A-Z]\w{5,}\(/g)) fragments.add(m[0]);
    }
  }
  return [
    ...pick([...identifiers].sort(), Math.ceil(literals / 2), 4).map((t) => ({
      kind: "literal" as const,
      pattern: escapeRegExp(t),
    })),
    ...pick([...fragments].sort(), Math.floor(literals / 2), 5).map((t) => ({
      kind: "literal" as const,
      pattern: escapeRegExp(t),
    })),
    ...REGEXES.map((pattern) => ({ kind: "regex" as const, pattern })),
    ...SCAN_REGEXES.map((pattern) => ({ kind: "regex-scan" as const, pattern })),
  ];
}
