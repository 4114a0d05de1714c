import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { tokenizerJson, valueInfo } from "../../indexers/src/embeddings/tiny-model.test-support.js";
import { splitIdentifier } from "../../indexers/src/tokenize.js";

/**
 * A model folder transformers.js loads as it would Xenova/all-MiniLM-L6-v2,
 * with that model's exact architecture and size but random weights, so the
 * local embedder's cost can be measured where no model can be downloaded.
 * Quality is meaningless (the vectors are those of an untrained network);
 * the compute is the real one.
 *
 * Architecture (sentence-transformers/all-MiniLM-L6-v2's config.json): BERT,
 * 6 layers, hidden 384, 12 heads of 32, intermediate 1536, GELU (erf),
 * vocabulary 30522, 512 positions, 2 token types, LayerNorm eps 1e-12:
 * 22.7M parameters, as the real one. The graph is written op by op in
 * standard ONNX (opset 17: Gather, Range, Add, LayerNormalization, MatMul,
 * Reshape, Transpose, Softmax, Mul, Div, Erf, Cast, Unsqueeze), the shape of
 * what an exporter produces, so ONNX Runtime applies its usual fusions.
 *
 * Two weight files, as the published model has:
 * - `onnx/model.onnx`: fp32 (~91 MB);
 * - `onnx/model_quantized.onnx` (what transformers.js loads for dtype q8):
 *   dynamic quantization as `onnxruntime.quantization.quantize_dynamic`
 *   writes it: weights int8 per tensor, activations quantized at run time
 *   (DynamicQuantizeLinear → MatMulInteger → Cast → Mul), the word table
 *   int8 behind a DequantizeLinear; attention's activation×activation
 *   MatMuls stay fp32 (~23 MB, as the real file).
 *
 * The tokenizer cannot be the real one either (its vocabulary is not on
 * this machine): `buildVocabulary` makes a 30522-entry WordPiece vocabulary
 * from a corpus (BERT's layout of special tokens, single characters, the
 * most frequent identifier parts as words and short `##` pieces). How
 * densely it cuts text (tokens per character) is reported with the results:
 * BERT's own vocabulary would cut code somewhat differently.
 */

const { onnx } = onnxProto;
const F32 = onnx.TensorProto.DataType.FLOAT;
const I64 = onnx.TensorProto.DataType.INT64;
const I8 = onnx.TensorProto.DataType.INT8;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const FLOAT = onnx.AttributeProto.AttributeType.FLOAT;

/** all-MiniLM-L6-v2's shape. */
export const MINILM_L6 = {
  layers: 6,
  hidden: 384,
  heads: 12,
  intermediate: 1536,
  vocab: 30522,
  positions: 512,
  typeVocab: 2,
  eps: 1e-12,
} as const;

export type ModelShape = { [K in keyof typeof MINILM_L6]: number };

/** Deterministic N(0, std) numbers (mulberry32 + Box–Muller). */
export function gaussian(seed: number, std: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s * std;
    }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v) * std;
  };
}

type Tensor = onnxProto.onnx.ITensorProto;
type Node = onnxProto.onnx.INodeProto;

function f32(name: string, dims: number[], data: Float32Array): Tensor {
  return {
    name,
    dims,
    dataType: F32,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
function i64(name: string, dims: number[], values: number[]): Tensor {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  return { name, dims, dataType: I64, rawData: new Uint8Array(data.buffer) };
}
function int8(name: string, dims: number[], data: Int8Array): Tensor {
  return { name, dims, dataType: I8, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Symmetric per-tensor int8 quantization (zero point 0), as quantize_dynamic does for weights by default. */
function quantize(data: Float32Array): { q: Int8Array; scale: number } {
  let max = 0;
  for (const v of data) max = Math.max(max, Math.abs(v));
  const scale = max / 127 || 1;
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(data[i]! / scale)));
  return { q, scale };
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private counter = 0;

  constructor(
    private readonly random: () => number,
    readonly quantized: boolean,
  ) {}

  name(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  op(
    opType: string,
    input: string[],
    attribute: onnxProto.onnx.IAttributeProto[] = [],
    outputs = 1,
  ): string[] {
    const output = Array.from({ length: outputs }, () => this.name(opType.toLowerCase()));
    this.nodes.push({ opType, input, output, name: this.name(`n_${opType}`), attribute });
    return output;
  }

  one(opType: string, input: string[], attribute: onnxProto.onnx.IAttributeProto[] = []): string {
    return this.op(opType, input, attribute)[0]!;
  }

  randomTensor(dims: number[]): Float32Array {
    const size = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    for (let i = 0; i < size; i++) data[i] = this.random();
    return data;
  }

  constantF32(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push(f32(name, dims, data));
    return name;
  }

  /** x · W + b, with W [rows, cols] random; quantized graphs use the integer path. */
  linear(x: string, prefix: string, rows: number, cols: number): string {
    const w = this.randomTensor([rows, cols]);
    const bias = this.constantF32(`${prefix}_b`, [cols], this.randomTensor([cols]));
    if (!this.quantized) {
      const weight = this.constantF32(`${prefix}_w`, [rows, cols], w);
      return this.one("Add", [this.one("MatMul", [x, weight]), bias]);
    }
    const { q, scale } = quantize(w);
    this.initializers.push(int8(`${prefix}_wq`, [rows, cols], q));
    this.initializers.push(int8(`${prefix}_wzp`, [], new Int8Array([0])));
    const wScale = this.constantF32(`${prefix}_ws`, [], Float32Array.of(scale));
    const [xq, xScale, xZero] = this.op("DynamicQuantizeLinear", [x], [], 3) as [string, string, string];
    const product = this.one("MatMulInteger", [xq, `${prefix}_wq`, xZero, `${prefix}_wzp`]);
    const asFloat = this.one("Cast", [product], [{ name: "to", type: INT, i: F32 }]);
    const scale2 = this.one("Mul", [xScale, wScale]);
    return this.one("Add", [this.one("Mul", [asFloat, scale2]), bias]);
  }

  layerNorm(x: string, prefix: string, size: number, eps: number): string {
    const gamma = this.constantF32(`${prefix}_gamma`, [size], new Float32Array(size).fill(1));
    const beta = this.constantF32(`${prefix}_beta`, [size], new Float32Array(size));
    return this.one(
      "LayerNormalization",
      [x, gamma, beta],
      [
        { name: "axis", type: INT, i: -1 },
        { name: "epsilon", type: FLOAT, f: eps },
      ],
    );
  }
}

/** The encoded ONNX model (protobuf bytes) of a BERT encoder with random weights (seeded). */
export function syntheticBertOnnx(
  shape: ModelShape,
  options: { quantized: boolean; seed?: number },
): Uint8Array {
  const g = new GraphBuilder(gaussian(options.seed ?? 42, 0.02), options.quantized);
  const { hidden, heads, intermediate, layers, eps } = shape;
  const headSize = hidden / heads;

  g.initializers.push(i64("c_zero", [], [0]), i64("c_one", [], [1]));
  g.initializers.push(i64("c_axes_12", [2], [1, 2]));
  g.initializers.push(
    i64("c_heads_shape", [4], [0, 0, heads, headSize]),
    i64("c_hidden_shape", [3], [0, 0, hidden]),
  );
  g.constantF32("c_f_one", [], Float32Array.of(1));
  g.constantF32("c_f_half", [], Float32Array.of(0.5));
  g.constantF32("c_sqrt2", [], Float32Array.of(Math.SQRT2));
  g.constantF32("c_mask_min", [], Float32Array.of(-3.4028234663852886e38));
  g.constantF32("c_scale", [], Float32Array.of(1 / Math.sqrt(headSize)));

  // Embeddings: words + positions (0..seq-1) + token types, then LayerNorm.
  const words = g.randomTensor([shape.vocab, hidden]);
  let wordVectors: string;
  if (options.quantized) {
    const { q, scale } = quantize(words);
    g.initializers.push(
      int8("word_embeddings_q", [shape.vocab, hidden], q),
      int8("word_embeddings_zp", [], new Int8Array([0])),
    );
    g.constantF32("word_embeddings_scale", [], Float32Array.of(scale));
    const gathered = g.one("Gather", ["word_embeddings_q", "input_ids"], [{ name: "axis", type: INT, i: 0 }]);
    wordVectors = g.one("DequantizeLinear", [gathered, "word_embeddings_scale", "word_embeddings_zp"]);
  } else {
    g.constantF32("word_embeddings", [shape.vocab, hidden], words);
    wordVectors = g.one("Gather", ["word_embeddings", "input_ids"], [{ name: "axis", type: INT, i: 0 }]);
  }
  g.constantF32("position_embeddings", [shape.positions, hidden], g.randomTensor([shape.positions, hidden]));
  g.constantF32(
    "token_type_embeddings",
    [shape.typeVocab, hidden],
    g.randomTensor([shape.typeVocab, hidden]),
  );
  const idsShape = g.one("Shape", ["input_ids"]);
  const seqLen = g.one("Gather", [idsShape, "c_one"], [{ name: "axis", type: INT, i: 0 }]);
  const positions = g.one("Range", ["c_zero", seqLen, "c_one"]);
  const positionVectors = g.one(
    "Gather",
    ["position_embeddings", positions],
    [{ name: "axis", type: INT, i: 0 }],
  );
  const typeVectors = g.one(
    "Gather",
    ["token_type_embeddings", "token_type_ids"],
    [{ name: "axis", type: INT, i: 0 }],
  );
  const summed = g.one("Add", [g.one("Add", [wordVectors, positionVectors]), typeVectors]);
  let x = g.layerNorm(summed, "emb_ln", hidden, eps);

  // Attention mask → additive bias [batch, 1, 1, seq]: 0 for tokens, the float minimum for padding.
  const maskF = g.one("Cast", ["attention_mask"], [{ name: "to", type: INT, i: F32 }]);
  const inverted = g.one("Sub", ["c_f_one", maskF]);
  const bias = g.one("Unsqueeze", [g.one("Mul", [inverted, "c_mask_min"]), "c_axes_12"]);

  for (let l = 0; l < layers; l++) {
    const p = `layer${l}`;
    const heads4 = (t: string, perm: number[]) =>
      g.one(
        "Transpose",
        [g.one("Reshape", [t, "c_heads_shape"])],
        [{ name: "perm", type: INTS, ints: perm }],
      );
    const q = heads4(g.linear(x, `${p}_q`, hidden, hidden), [0, 2, 1, 3]);
    const k = heads4(g.linear(x, `${p}_k`, hidden, hidden), [0, 2, 3, 1]);
    const v = heads4(g.linear(x, `${p}_v`, hidden, hidden), [0, 2, 1, 3]);
    const scores = g.one("Add", [g.one("Mul", [g.one("MatMul", [q, k]), "c_scale"]), bias]);
    const probs = g.one("Softmax", [scores], [{ name: "axis", type: INT, i: -1 }]);
    const context = g.one(
      "Transpose",
      [g.one("MatMul", [probs, v])],
      [{ name: "perm", type: INTS, ints: [0, 2, 1, 3] }],
    );
    const merged = g.one("Reshape", [context, "c_hidden_shape"]);
    const attended = g.one("Add", [g.linear(merged, `${p}_o`, hidden, hidden), x]);
    const x1 = g.layerNorm(attended, `${p}_ln1`, hidden, eps);
    const up = g.linear(x1, `${p}_ff1`, hidden, intermediate);
    // GELU, erf form: x · 0.5 · (1 + erf(x / √2)).
    const erf = g.one("Erf", [g.one("Div", [up, "c_sqrt2"])]);
    const gelu = g.one("Mul", [g.one("Mul", [up, g.one("Add", [erf, "c_f_one"])]), "c_f_half"]);
    const down = g.one("Add", [g.linear(gelu, `${p}_ff2`, intermediate, hidden), x1]);
    x = g.layerNorm(down, `${p}_ln2`, hidden, eps);
  }
  g.nodes.push({ opType: "Identity", input: [x], output: ["last_hidden_state"], name: "output" });

  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "conhub-bench-synthetic-minilm",
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "synthetic-minilm-l6",
      node: g.nodes,
      initializer: g.initializers,
      input: [
        valueInfo("input_ids", I64, ["batch_size", "sequence_length"]),
        valueInfo("attention_mask", I64, ["batch_size", "sequence_length"]),
        valueInfo("token_type_ids", I64, ["batch_size", "sequence_length"]),
      ],
      output: [valueInfo("last_hidden_state", F32, ["batch_size", "sequence_length", String(hidden)])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

// ---------------------------------------------------------------- vocabulary

const SPECIAL = [
  "[PAD]",
  ...Array.from({ length: 99 }, (_, i) => `[unused${i}]`),
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
];
const IDENTIFIER = /[A-Za-z][A-Za-z0-9]*/g;

/**
 * A WordPiece vocabulary of `size` entries learned from `texts`: BERT's
 * special tokens at BERT's ids ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102,
 * [MASK] 103), every printable ASCII character and `##` + each letter and
 * digit (so nothing becomes [UNK]), then identifier parts (camelCase and
 * snake_case split, lower-cased, as English words) by frequency as words,
 * and their 2–4 letter fragments by frequency as `##` pieces (one piece per
 * five words, about BERT's share).
 */
export function buildVocabulary(texts: Iterable<string>, size: number = MINILM_L6.vocab): string[] {
  const parts = new Map<string, number>();
  const fragments = new Map<string, number>();
  for (const text of texts) {
    for (const match of text.matchAll(IDENTIFIER)) {
      for (const raw of splitIdentifier(match[0])) {
        const part = raw.toLowerCase();
        if (!/^[a-z]{2,24}$/.test(part)) continue;
        parts.set(part, (parts.get(part) ?? 0) + 1);
        for (let len = 2; len <= 4; len++) {
          for (let i = 1; i + len <= part.length; i++) {
            const piece = part.slice(i, i + len);
            fragments.set(piece, (fragments.get(piece) ?? 0) + 1);
          }
        }
      }
    }
  }
  const vocab: string[] = [...SPECIAL];
  const seen = new Set(vocab);
  const add = (token: string) => {
    if (vocab.length < size && !seen.has(token)) {
      seen.add(token);
      vocab.push(token);
    }
  };
  for (let c = 33; c < 127; c++) {
    const ch = String.fromCharCode(c);
    if (!/[A-Z]/.test(ch)) add(ch);
  }
  for (const ch of "abcdefghijklmnopqrstuvwxyz0123456789") add(`##${ch}`);
  for (let n = 0; n < 100; n++) add(String(n));
  const byCount = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const pieceBudget = Math.floor((size - vocab.length) / 5);
  for (const [piece] of byCount(fragments).slice(0, pieceBudget)) add(`##${piece}`);
  for (const [part] of byCount(parts)) add(part);
  // A small corpus may not fill the table: pad with unused entries, as BERT's has.
  for (let i = 99; vocab.length < size; i++) add(`[unused${i}]`);
  return vocab;
}

export interface SyntheticModelInfo {
  /** The model's own folder (`<models dir>/<model id>`). */
  dir: string;
  /** Bytes per file written (relative path → size). */
  files: Record<string, number>;
  /** Whether this call wrote the files (false: they were there already). */
  written: boolean;
}

const MARKER = "conhub-synthetic.json";

/**
 * Writes the synthetic model into `dir` unless it is there already (same
 * shape and seed). `texts` feed the vocabulary (only read when writing).
 * `maxLength` is the tokenizer's `model_max_length`: 512 as in
 * Xenova/all-MiniLM-L6-v2's tokenizer_config.json (sentence-transformers
 * itself cuts at 256: `max_seq_length` in sentence_bert_config.json).
 */
export async function ensureSyntheticMiniLm(
  dir: string,
  texts: () => Iterable<string>,
  options: { shape?: ModelShape; seed?: number; maxLength?: number; quantized?: boolean } = {},
): Promise<SyntheticModelInfo> {
  const shape = options.shape ?? MINILM_L6;
  const seed = options.seed ?? 42;
  const maxLength = options.maxLength ?? 512;
  const quantized = options.quantized ?? true;
  const identity = JSON.stringify({ format: 1, shape, seed, maxLength, quantized });
  const names = ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"];
  if (quantized) names.push("onnx/model_quantized.onnx");
  const sizes = async () =>
    Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, (await stat(join(dir, n))).size] as const)),
    );
  const existing = await readFile(join(dir, MARKER), "utf8").catch(() => undefined);
  if (existing === identity) return { dir, files: await sizes(), written: false };

  const vocab = buildVocabulary(texts(), shape.vocab);
  await mkdir(join(dir, "onnx"), { recursive: true });
  await writeFile(
    join(dir, "config.json"),
    JSON.stringify({
      _name_or_path: "conhub-bench/minilm-l6-synthetic",
      architectures: ["BertModel"],
      model_type: "bert",
      attention_probs_dropout_prob: 0.1,
      hidden_act: "gelu",
      hidden_dropout_prob: 0.1,
      hidden_size: shape.hidden,
      initializer_range: 0.02,
      intermediate_size: shape.intermediate,
      layer_norm_eps: shape.eps,
      max_position_embeddings: shape.positions,
      num_attention_heads: shape.heads,
      num_hidden_layers: shape.layers,
      pad_token_id: 0,
      position_embedding_type: "absolute",
      type_vocab_size: shape.typeVocab,
      vocab_size: shape.vocab,
    }),
  );
  await writeFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson(vocab, maxLength)));
  await writeFile(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      model_max_length: maxLength,
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
    }),
  );
  await writeFile(join(dir, "onnx/model.onnx"), syntheticBertOnnx(shape, { quantized: false, seed }));
  if (quantized) {
    await writeFile(
      join(dir, "onnx/model_quantized.onnx"),
      syntheticBertOnnx(shape, { quantized: true, seed }),
    );
  }
  await writeFile(join(dir, MARKER), identity);
  return { dir, files: await sizes(), written: true };
}
