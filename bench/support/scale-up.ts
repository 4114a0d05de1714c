import { contentHash, type KeywordIndex } from "../../indexers/src/index.js";
import type { ProcessedCorpus } from "./corpus.js";
import { gaussian } from "./synthetic-minilm.js";

/**
 * Scales a processed corpus up to `target` chunks by storing it again and
 * again under `copy-NN/` path prefixes, through the keyword index port
 * (`batch` + `upsert`), without chunking again. Copy 0 is the corpus as is;
 * in later copies about `rate` of the identifiers of five characters or
 * more get their last letter changed (same case, same length, so line and
 * byte offsets stay true), deterministically per copy and chunk: every copy
 * brings identifiers no other copy has, as a larger code base does, so
 * document frequencies and the vocabulary grow instead of every term's
 * count simply multiplying. The last copy is cut to reach `target` exactly.
 *
 * Returns, per stored chunk in storage order (= chunk id order), the index
 * of the original chunk it copies (`origin`), for deriving its vector.
 */

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]{4,}/g;
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = LOWER.toUpperCase();

export function perturb(text: string, seed: number, rate: number): string {
  const random = gaussian(seed, 1);
  const uniform = () => 0.5 * (1 + erfApprox(random() / Math.SQRT2));
  return text.replace(IDENTIFIER, (word) => {
    if (uniform() >= rate) return word;
    const last = word[word.length - 1]!;
    const alphabet = LOWER.includes(last) ? LOWER : UPPER.includes(last) ? UPPER : undefined;
    if (!alphabet) return word;
    const shift = 1 + Math.floor(uniform() * 25);
    const next = alphabet[(alphabet.indexOf(last) + shift) % 26]!;
    return word.slice(0, -1) + next;
  });
}

/** Abramowitz–Stegun 7.1.26: turns N(0,1) draws into uniform ones; precision is irrelevant here. */
function erfApprox(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152073) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return sign * y;
}

export interface ScaleUpResult {
  copies: number;
  chunks: number;
  documents: number;
  /** Bytes of chunk text stored (overlapping windows counted each time). */
  textBytes: number;
  origin: Int32Array;
  elapsedMs: number;
}

export async function scaleUp(
  index: KeywordIndex,
  corpus: ProcessedCorpus,
  options: {
    sourceId: string;
    target: number;
    rate?: number;
    /** Chunks per transaction. */
    batchChunks?: number;
    onProgress?: (stored: number) => void;
  },
): Promise<ScaleUpResult> {
  const started = performance.now();
  const rate = options.rate ?? 0.08;
  const batchChunks = options.batchChunks ?? 20_000;
  const origin = new Int32Array(options.target);
  await index.upsertSource({ id: options.sourceId, root: corpus.root });
  // Original chunk numbers, in corpus order.
  const firstOf: number[] = [];
  let total = 0;
  for (const doc of corpus.documents) {
    firstOf.push(total);
    total += doc.chunks.length;
  }
  let stored = 0;
  let documents = 0;
  let textBytes = 0;
  let copy = 0;
  while (stored < options.target) {
    const prefix = `copy-${String(copy).padStart(2, "0")}`;
    let d = 0;
    while (d < corpus.documents.length && stored < options.target) {
      let inBatch = 0;
      await index.batch(async (batch) => {
        while (d < corpus.documents.length && stored < options.target && inBatch < batchChunks) {
          const doc = corpus.documents[d]!;
          const room = options.target - stored;
          const path = `${prefix}/${doc.document.path}`;
          const chunks = doc.chunks.slice(0, room).map((chunk, i) => ({
            ...chunk,
            documentPath: path,
            text: copy === 0 ? chunk.text : perturb(chunk.text, copy * 7_919_993 + firstOf[d]! + i, rate),
          }));
          await batch.upsert({
            document: {
              ...doc.document,
              path,
              contentHash: contentHash(`${copy}:${doc.document.contentHash}`),
            },
            chunks,
            symbols: doc.symbols,
            redactions: doc.redactions,
            bytes: doc.bytes,
          });
          for (let i = 0; i < chunks.length; i++) {
            origin[stored + i] = firstOf[d]! + i;
            textBytes += Buffer.byteLength(chunks[i]!.text);
          }
          stored += chunks.length;
          inBatch += chunks.length;
          documents++;
          d++;
        }
      });
      options.onProgress?.(stored);
    }
    copy++;
  }
  return {
    copies: copy,
    chunks: stored,
    documents,
    textBytes,
    origin,
    elapsedMs: performance.now() - started,
  };
}
