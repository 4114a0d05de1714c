/** Sizes that shape chunks. Token counts are estimates: four UTF-8 bytes per token. */
export interface ChunkingOptions {
  /** Chunks larger than this are split at inner boundaries (statements, blocks, paragraphs). */
  maxChunkTokens: number;
  /** Neighbours smaller than this are merged (imports, constants, one-line methods). */
  smallChunkTokens: number;
  /** A merged run of small neighbours stops growing at this size. */
  mergeUpToTokens: number;
  /** Line windows (text without syntax): rows per window… */
  windowLines: number;
  /** …and rows repeated at the start of the next window. */
  overlapLines: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = {
  maxChunkTokens: 1500,
  smallChunkTokens: 48,
  mergeUpToTokens: 256,
  windowLines: 60,
  overlapLines: 8,
};

/** Characters (UTF-16 units) standing for a token count: the same four-per-token estimate. */
export function tokensToChars(tokens: number): number {
  return tokens * 4;
}
