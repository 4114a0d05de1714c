#!/usr/bin/env node
// Runs one TypeScript file of this repository (benchmarks, scripts): `node cli/bin/run-ts.mjs bench/run.ts …`.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

const file = process.argv[2];
if (!file) {
  console.error("usage: run-ts.mjs <file.ts> [args…]");
  process.exit(2);
}
process.argv.splice(2, 1);
register();
await import(pathToFileURL(resolve(file)).href);
