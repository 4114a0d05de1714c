import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import onnxProto from "onnx-proto";

/**
 * A tiny BERT-shaped embedding model, written to disk in the layout
 * transformers.js loads (ENVIRONMENT-NOTES "An embedding model you can test
 * with offline"): `config.json`, `tokenizer.json` (WordPiece, BertNormalizer,
 * BertPreTokenizer, a TemplateProcessing post-processor adding [CLS]/[SEP]),
 * `tokenizer_config.json` and `onnx/model.onnx`.
 *
 * The ONNX graph is only embedding tables:
 * `last_hidden_state[b, s] = words[input_ids[b, s]] + types[token_type_ids[b, s]]`
 * (Gather, Gather, Add; opset 17). No attention, so the real pipeline runs end
 * to end and every pooled vector can be computed by hand from the tables.
 * `attention_mask` is a declared input the graph does not read, as in
 * models whose mask only matters for pooling. The [PAD] row is large and
 * distinctive so a padding position that leaks into a mean moves the vector.
 */

const { onnx } = onnxProto;

export const TINY_VOCAB = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  ".",
  ",",
  "!",
  "?",
  "(",
  ")",
  "the",
  "quick",
  "brown",
  "fox",
  "jump",
  "##s",
  "##ed",
  "##ing",
  "over",
  "lazy",
  "dog",
  "hello",
  "world",
  "code",
  "search",
  "function",
  "parse",
  "token",
  "vector",
  "index",
  "query",
  "a",
  "b",
  "c",
  "x",
  "y",
  "z",
] as const;

export interface TinyModelOptions {
  /** Vector length (the model's hidden_size). Default 8. */
  dimensions?: number;
  /** Longest token sequence, [CLS] and [SEP] included (tokenizer model_max_length and max_position_embeddings). Default 16. */
  maxLength?: number;
  /**
   * Also write `onnx/model_quantized.onnx` (what transformers.js loads for
   * dtype q8), with its own word table, so a test can tell which file ran.
   */
  quantized?: boolean;
  /** Leave out `onnx/model.onnx` (a model published with quantized weights only). */
  withoutFp32?: boolean;
}

export interface TinyModel {
  dir: string;
  dimensions: number;
  maxLength: number;
  vocab: readonly string[];
  /** Word embedding rows of `onnx/model.onnx`, indexed by token id. */
  words: number[][];
  /** Word embedding rows of `onnx/model_quantized.onnx`. */
  quantizedWords: number[][];
  /** Token-type rows (type 0 is added to every token of a single sentence). */
  types: number[][];
  /** Files written, relative to `dir`. */
  files: string[];
  /**
   * The sentence embedding of a token sequence, computed by hand: the mean of
   * `words[t] + types[0]` over the tokens (the caller lists [CLS] and [SEP]),
   * L2-normalised.
   */
  expected(tokens: readonly string[], variant?: "fp32" | "q8"): Float32Array;
}

function wordTable(rows: number, dims: number, seed: number): number[][] {
  return Array.from({ length: rows }, (_, i) =>
    Array.from({ length: dims }, (_, j) =>
      i === 0 ? 5 + j : Math.fround(Math.sin(seed + i * 1.7 + j * 0.9) + (j === i % dims ? 0.5 : 0)),
    ),
  );
}

function tensor(name: string, rows: number[][]): onnxProto.onnx.ITensorProto {
  return {
    name,
    dims: [rows.length, rows[0]?.length ?? 0],
    dataType: onnx.TensorProto.DataType.FLOAT,
    floatData: rows.flat(),
  };
}

/** An ONNX graph input/output with symbolic dimensions. */
export function valueInfo(name: string, elemType: number, dims: string[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((dimParam) => ({ dimParam })) } } },
  };
}

/** The encoded ONNX model (protobuf bytes). */
export function tinyOnnxModel(words: number[][], types: number[][]): Uint8Array {
  const int64 = onnx.TensorProto.DataType.INT64;
  const graph: onnxProto.onnx.IGraphProto = {
    name: "tiny-bert",
    initializer: [tensor("word_embeddings", words), tensor("token_type_embeddings", types)],
    input: [
      valueInfo("input_ids", int64, ["batch_size", "sequence_length"]),
      valueInfo("attention_mask", int64, ["batch_size", "sequence_length"]),
      valueInfo("token_type_ids", int64, ["batch_size", "sequence_length"]),
    ],
    output: [
      valueInfo("last_hidden_state", onnx.TensorProto.DataType.FLOAT, [
        "batch_size",
        "sequence_length",
        "hidden_size",
      ]),
    ],
    node: [
      {
        opType: "Gather",
        input: ["word_embeddings", "input_ids"],
        output: ["words"],
        name: "word_gather",
        attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      },
      {
        opType: "Gather",
        input: ["token_type_embeddings", "token_type_ids"],
        output: ["types"],
        name: "type_gather",
        attribute: [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      },
      { opType: "Add", input: ["words", "types"], output: ["last_hidden_state"], name: "sum" },
    ],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "conhub-tiny-model",
    opsetImport: [{ domain: "", version: 17 }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A BERT WordPiece `tokenizer.json` (Hugging Face tokenizers format) over
 * `vocab`, truncating at `maxLength` tokens when given. Also used by the
 * benchmarks' synthetic MiniLM.
 */
export function tokenizerJson(vocab: readonly string[], maxLength?: number): unknown {
  const id = (token: string) => vocab.indexOf(token);
  const special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
  return {
    version: "1.0",
    truncation:
      maxLength === undefined
        ? null
        : { direction: "Right", max_length: maxLength, strategy: "LongestFirst", stride: 0 },
    padding: null,
    added_tokens: special.map((content) => ({
      id: id(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [id("[CLS]")], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [id("[SEP]")], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, i) => [token, i])),
    },
  };
}

/** Writes the tiny model into `dir` (the model's own folder, e.g. `<models dir>/<model id>`). */
export async function writeTinyModel(dir: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const dimensions = options.dimensions ?? 8;
  const maxLength = options.maxLength ?? 16;
  const vocab: readonly string[] = TINY_VOCAB;
  const words = wordTable(vocab.length, dimensions, 1);
  const quantizedWords = wordTable(vocab.length, dimensions, 2);
  const types = [
    Array.from({ length: dimensions }, (_, j) => Math.fround(0.25 - j * 0.05)),
    Array.from({ length: dimensions }, () => 3),
  ];

  const files: Record<string, string | Uint8Array> = {
    "config.json": JSON.stringify({
      architectures: ["BertModel"],
      model_type: "bert",
      hidden_size: dimensions,
      intermediate_size: dimensions * 4,
      num_attention_heads: 1,
      num_hidden_layers: 1,
      max_position_embeddings: maxLength,
      type_vocab_size: 2,
      vocab_size: vocab.length,
      pad_token_id: 0,
    }),
    "tokenizer.json": JSON.stringify(tokenizerJson(vocab)),
    "tokenizer_config.json": JSON.stringify({
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      model_max_length: maxLength,
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
    }),
  };
  if (!options.withoutFp32) files["onnx/model.onnx"] = tinyOnnxModel(words, types);
  if (options.quantized) files["onnx/model_quantized.onnx"] = tinyOnnxModel(quantizedWords, types);

  await mkdir(join(dir, "onnx"), { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);

  return {
    dir,
    dimensions,
    maxLength,
    vocab,
    words,
    quantizedWords,
    types,
    files: Object.keys(files),
    expected(tokens, variant = "fp32") {
      const table = variant === "q8" ? quantizedWords : words;
      const sum = new Float64Array(dimensions);
      for (const token of tokens) {
        const row = table[vocab.indexOf(token)];
        if (!row) throw new Error(`token ${token} is not in the tiny vocabulary`);
        for (let j = 0; j < dimensions; j++) sum[j]! += row[j]! + types[0]![j]!;
      }
      const mean = sum.map((v) => v / tokens.length);
      const norm = Math.hypot(...mean);
      return Float32Array.from(mean, (v) => v / norm);
    },
  };
}
