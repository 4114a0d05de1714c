// `node --expose-gc cli/bin/run-ts.mjs indexers/src/vectors/run-bench.ts [count] [dimensions] [variant, e.g. "f16, ef 128"]`
import { runVectorStoreBench } from "./bench.js";

await runVectorStoreBench(Number(process.argv[2] ?? 50_000), Number(process.argv[3] ?? 384), process.argv[4]);
