import type { Chunk, Language, SymbolDef } from "../document.js";
import { estimateTokens } from "../document.js";
import { symbolsOf } from "../symbols.js";
import { GRAMMAR_SPECS } from "./grammars.js";
import { LineIndex, lineWindows } from "./lines.js";
import { chunkMarkdown } from "./markdown.js";
import { type ChunkingOptions, DEFAULT_CHUNKING, tokensToChars } from "./options.js";
import { outline } from "./outline.js";
import { parserFor } from "./parser.js";
import { chunkOutline, type Piece } from "./tree-sitter.js";

export { type ChunkingOptions, DEFAULT_CHUNKING } from "./options.js";

export interface ChunkInput {
  path: string;
  content: string;
  language: Language;
}

export interface ChunkResult {
  chunks: Chunk[];
  symbols: SymbolDef[];
  /** How the file was cut: `syntax` (tree-sitter), `markdown`, or `lines` (windows; also when a parse fails). */
  method: "syntax" | "markdown" | "lines";
}

/**
 * Cuts one document into chunks (and, for code, its symbol definitions):
 * tree-sitter for the languages in `GRAMMAR_SPECS`, headings for Markdown,
 * overlapping line windows for everything else.
 */
export async function chunkDocument(
  input: ChunkInput,
  options: Partial<ChunkingOptions> = {},
): Promise<ChunkResult> {
  const opts: ChunkingOptions = { ...DEFAULT_CHUNKING, ...options };
  const index = new LineIndex(input.content);
  const spec = GRAMMAR_SPECS[input.language];
  const parser = spec ? parserFor(input.language) : undefined;
  if (spec && parser) {
    const tree = (await parser).parse(input.content);
    if (tree) {
      try {
        const root = outline(tree, spec);
        return {
          chunks: toChunks(input, index, chunkOutline(index, root, opts)),
          symbols: symbolsOf(root),
          method: "syntax",
        };
      } finally {
        tree.delete();
      }
    }
  }
  if (input.language === "markdown") {
    return { chunks: toChunks(input, index, chunkMarkdown(index, opts)), symbols: [], method: "markdown" };
  }
  const spans =
    index.count === 0
      ? []
      : lineWindows(index, 0, index.count - 1, {
          maxLines: opts.windowLines,
          maxChars: tokensToChars(opts.maxChunkTokens),
          overlapLines: opts.overlapLines,
        });
  const pieces = spans.map((span): Piece => ({ ...span, kind: "lines", path: "" }));
  return { chunks: toChunks(input, index, pieces), symbols: [], method: "lines" };
}

function toChunks(input: ChunkInput, index: LineIndex, pieces: Piece[]): Chunk[] {
  return pieces.map((piece, ordinal) => {
    const startByte = index.byteOffset(piece.startRow, piece.from);
    const endByte = index.byteOffset(piece.endRow, piece.to);
    return {
      documentPath: input.path,
      ordinal,
      startLine: piece.startRow + 1,
      endLine: piece.endRow + 1,
      startByte,
      endByte,
      text: index.text.slice(piece.from, piece.to),
      kind: piece.kind,
      symbolPath: piece.path,
      language: input.language,
      tokenEstimate: estimateTokens(endByte - startByte),
    };
  });
}
