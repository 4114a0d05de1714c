import { createHash } from "node:crypto";
import { z } from "zod";
import { LANGUAGES } from "./languages.js";

/**
 * The indexer's data model: a document as it arrives (from a connector or the
 * CLI), the chunks it is cut into and the symbols it defines. Line numbers
 * are 1-based and inclusive; byte offsets are UTF-8 offsets into the
 * document's (redacted) content, start inclusive and end exclusive.
 */

export const Language = z.enum(LANGUAGES);
export type Language = z.infer<typeof Language>;

export const Document = z.strictObject({
  /** The source (repository, drive, folder) the document belongs to. */
  sourceId: z.string().min(1),
  /** Path relative to the source root, `/`-separated, no leading `/`, no `.`/`..` segments. */
  path: z
    .string()
    .min(1)
    .refine((p) => !p.startsWith("/") && !p.includes("\\") && !/(^|\/)\.\.?(\/|$)/.test(p), {
      message: "a relative, `/`-separated path without `.` or `..` segments",
    }),
  content: z.string(),
  mediaType: z.string().min(1),
  language: Language,
  /** SHA-256 of the UTF-8 content as received (before redaction), lower-case hex. */
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type Document = z.infer<typeof Document>;

/** Kinds of definitions: every one is both a symbol kind and a chunk kind. */
const definitionKinds = [
  "function",
  "method",
  "class",
  "interface",
  "struct",
  "enum",
  "trait",
  "impl",
  "namespace",
  "type",
] as const;

export const ChunkKind = z.enum([
  ...definitionKinds,
  /** Top-level code between definitions (imports, constants, statements), or small neighbours merged. */
  "module",
  /** A Markdown section (heading and its text). */
  "section",
  /** A window of lines of a file chunked without syntax. */
  "lines",
]);
export type ChunkKind = z.infer<typeof ChunkKind>;

export const Chunk = z.strictObject({
  documentPath: z.string(),
  /** 0-based position of the chunk in its document. */
  ordinal: z.number().int().nonnegative(),
  startLine: z.number().int().positive(),
  endLine: z.number().int().positive(),
  startByte: z.number().int().nonnegative(),
  endByte: z.number().int().nonnegative(),
  text: z.string(),
  kind: ChunkKind,
  /** e.g. `class Router > method handle`, `Install > Linux`; empty for top-level code. */
  symbolPath: z.string(),
  language: Language,
  /** About four bytes per token: cheap and good enough to size chunks and budgets. */
  tokenEstimate: z.number().int().nonnegative(),
});
export type Chunk = z.infer<typeof Chunk>;

export const SymbolKind = z.enum(definitionKinds);
export type SymbolKind = z.infer<typeof SymbolKind>;

export const SymbolDef = z.strictObject({
  name: z.string(),
  kind: SymbolKind,
  /** The symbol path, as in chunks: `class Router > method handle`. */
  path: z.string(),
  startLine: z.number().int().positive(),
  endLine: z.number().int().positive(),
  /** Name of the enclosing definition (`Router` for `Router.handle`), null at top level. */
  container: z.string().nullable(),
});
export type SymbolDef = z.infer<typeof SymbolDef>;

/** SHA-256 hex of a document's content (UTF-8). */
export function contentHash(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** The token estimate used for every chunk: one token per four UTF-8 bytes, rounded up. */
export function estimateTokens(byteLength: number): number {
  return Math.ceil(byteLength / 4);
}
