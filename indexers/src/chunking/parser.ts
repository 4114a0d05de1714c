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
 * V8 flags are not thread-safe, and a worker setting it while another
 * worker compiled a grammar made that grammar fail to link now and then
 * ("bad export type for 'NON_IDENTIFIER_CHARS'" for Ruby's, 2 of 7 cold
 * runs over kafka with 2 workers; 0 of 8 once workers left the flag alone).
 * Workers then compile with the flag their process already has.
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

/** The shared parser for a language, or undefined when the language has no grammar. */
export function parserFor(language: Language): Promise<Parser> | undefined {
  const grammar = GRAMMARS[language];
  if (!grammar) return undefined;
  let parser = parsers.get(grammar);
  if (!parser) {
    parser = (async () => {
      await initRuntime();
      const loaded = await TsLanguage.load(grammarPath(grammar));
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
