import { createRequire } from "node:module";
import { setFlagsFromString } from "node:v8";
import { isMainThread } from "node:worker_threads";
import { Parser, Language as TsLanguage } from "web-tree-sitter";
import { GRAMMARS, type Language } from "../languages.js";

/**
 * Loads web-tree-sitter once and each grammar once, lazily, on first use.
 * One parser per grammar is kept and reused: creating parsers and loading
 * wasm are the expensive parts, parsing one file after that is not.
 */
const require = createRequire(import.meta.url);
let runtime: Promise<void> | undefined;
const parsers = new Map<string, Promise<Parser>>();

let optimizedWasm = false;

/**
 * V8's baseline wasm tier (Liftoff) runs tree-sitter's parser ~3× slower
 * than the optimising tier, and dynamic tiering leaves its big parse loop
 * there for a long time (measured in bench/RESULTS.md, "chunking"). Without
 * Liftoff each wasm function is compiled optimised on first call instead.
 * The flag is process-wide and only concerns WebAssembly (no other module
 * of ConHub compiles wasm on its hot path). It is set once, from the main
 * thread, before any ingest worker starts (`FilePool` calls this first):
 * V8 flags are not thread-safe. Workers then compile with the flag their
 * process already has. (A grammar that failed to link now and then, first
 * blamed on this flag, was two loads at once in one thread: `loadOneAtATime`.)
 */
export function preferOptimizedWasm(): void {
  if (optimizedWasm || !isMainThread) return;
  optimizedWasm = true;
  setFlagsFromString("--no-liftoff");
}

function initRuntime(): Promise<void> {
  preferOptimizedWasm();
  runtime ??= Parser.init();
  return runtime;
}

/** The path of a `tree-sitter-wasms` grammar file, resolved from this package. */
export function grammarPath(grammar: string): string {
  return require.resolve(`tree-sitter-wasms/out/tree-sitter-${grammar}.wasm`);
}

/** The grammar load in progress in this thread (or settled last). */
let loading: Promise<unknown> = Promise.resolve();

/**
 * Loads a grammar after any other of this thread is loaded. web-tree-sitter links each grammar
 * into one runtime (Emscripten's dynamic linker): two loads at once see each other's symbols
 * half-resolved and one fails ("bad export type for 'NON_IDENTIFIER_CHARS': undefined" when
 * Ruby's was the other). A worker given two batches at once starts two files, so two loads.
 */
function loadOneAtATime(path: string): Promise<TsLanguage> {
  const load = loading.then(
    () => TsLanguage.load(path),
    () => TsLanguage.load(path),
  );
  loading = load.catch(() => undefined);
  return load;
}

/** The shared parser for a language, or undefined when the language has no grammar. */
export function parserFor(language: Language): Promise<Parser> | undefined {
  const grammar = GRAMMARS[language];
  if (!grammar) return undefined;
  let parser = parsers.get(grammar);
  if (!parser) {
    parser = (async () => {
      await initRuntime();
      const loaded = await loadOneAtATime(grammarPath(grammar));
      const created = new Parser();
      created.setLanguage(loaded);
      return created;
    })();
    parsers.set(grammar, parser);
    // A failed load (missing file) must not poison later calls forever.
    parser.catch(() => parsers.delete(grammar));
  }
  return parser;
}
