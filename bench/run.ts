/**
 * `npm run bench [-- <name>…]`: runs the named benchmarks (all by default)
 * and prints Markdown to paste into bench/RESULTS.md.
 */
const benches: Record<string, () => Promise<void>> = {
  gateway: async () => (await import("./gateway.js")).runGatewayBench(),
  chunking: async () => (await import("./chunking.js")).runChunkingBench(),
  "keyword-index": async () => (await import("./keyword-index.js")).runKeywordIndexBench(),
  auth: async () => (await import("./auth.js")).runAuthBench(),
  "fs-mcp": async () => (await import("./fs-mcp.js")).runFsMcpBench(),
  mcp: async () => (await import("./mcp.js")).runMcpBench(),
  "mcp-scale": async () => (await import("./mcp-scale.js")).runMcpScaleBench(),
  retrieval: async () => (await import("./retrieval.js")).runRetrievalBench(),
  scale: async () => (await import("./scale.js")).runScaleBench(),
  embeddings: async () => (await import("./embeddings.js")).runEmbeddingsBench(),
  "data-sync": async () => (await import("./data-sync.js")).runDataSyncBench(),
  webhooks: async () => (await import("./webhooks.js")).runWebhooksBench(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
// Run only when named: it needs a built scale index (`--scale-data-dir`; `mcp --scale-data-dir=…` also runs it).
const namedOnly = new Set(["mcp-scale"]);
const names = wanted.length > 0 ? wanted : Object.keys(benches).filter((n) => !namedOnly.has(n));
for (const name of names) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  await bench();
}
