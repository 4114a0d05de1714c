import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * The script an ingest worker thread starts from. Preferably one ESM file
 * bundling the worker's TypeScript modules (npm packages stay imports),
 * built with esbuild (which tsx, our TypeScript loader, ships with) and
 * kept under `node_modules/.cache` by content hash: a worker then loads
 * as plain JavaScript instead of registering tsx, which costs each worker
 * a loader thread and a transform round trip per module (measured: about
 * 0.8 CPU-second and 40 MB less per worker). If the bundle cannot be built
 * or its imports would not resolve from the cache folder, the worker
 * registers tsx itself (`file-worker.mjs`).
 */

const require = createRequire(import.meta.url);
const fallback = new URL("./file-worker.mjs", import.meta.url);
let entry: Promise<URL> | undefined;

async function buildBundle(): Promise<URL> {
  // Beside the packages the bundle imports, so they resolve from it as from our sources.
  const cacheDir = join(
    dirname(require.resolve("tree-sitter-wasms/package.json")),
    "..",
    ".cache",
    "conhub-indexer",
  );
  const esbuild = (await import(pathToFileURL(require.resolve("esbuild")).href)) as typeof import("esbuild");
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL("./file-worker-loop.ts", import.meta.url))],
    write: false,
    outfile: join(cacheDir, "file-worker.mjs"),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
    metafile: true,
    plugins: [
      {
        name: "external-packages",
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith("@conhub/") ? undefined : { path: args.path, external: true },
          );
        },
      },
    ],
  });
  const code = result.outputFiles?.[0]?.contents;
  if (!code) throw new Error("bundling the ingest worker produced nothing");
  const fromCache = createRequire(join(cacheDir, "resolve.cjs"));
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || imported.path.startsWith("node:")) continue;
      fromCache.resolve(imported.path); // Throws when the layout of node_modules would break the bundle.
    }
  }
  // The grammars are found with require.resolve from the bundle's own location (`chunking/parser.ts`).
  fromCache.resolve("tree-sitter-wasms/package.json");
  const file = join(
    cacheDir,
    `file-worker-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`,
  );
  if (!existsSync(file)) {
    await mkdir(cacheDir, { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, code);
    await rename(temp, file);
  }
  return pathToFileURL(file);
}

/** The worker script to start: the bundle, or the tsx-registering entry when there can be none. */
export function workerEntry(): Promise<URL> {
  entry ??= buildBundle().catch(() => fallback);
  return entry;
}
