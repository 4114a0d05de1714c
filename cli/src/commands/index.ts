import {
  type EmbedProgress,
  type EmbedRunResult,
  type IndexerEngine,
  ingestLocalDirectory,
  type LocalIngestProgress,
} from "@conhub/indexer";
import { type IndexCliOptions, openIndexForCli } from "./search.js";

export interface IndexCommandOptions extends IndexCliOptions {
  full?: boolean;
  json?: boolean;
}

const MB = 1024 * 1024;

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "--";
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

function progressLine(p: LocalIngestProgress): string {
  const pct = p.bytesTotal > 0 ? Math.floor((p.bytesDone / p.bytesTotal) * 100) : 100;
  return (
    `indexing ${pct}%  ${p.filesDone}/${p.filesTotal} files  ` +
    `${(p.bytesDone / MB).toFixed(1)}/${(p.bytesTotal / MB).toFixed(1)} MB  ` +
    `${(p.bytesPerSecond / MB).toFixed(1)} MB/s  ETA ${duration(p.etaMs)}`
  );
}

function embedLine(p: EmbedProgress): string {
  const total = p.embedded + p.remaining;
  const pct = total > 0 ? Math.floor((p.embedded / total) * 100) : 100;
  const eta = p.chunksPerSecond > 0 ? (p.remaining / p.chunksPerSecond) * 1000 : undefined;
  return `embedding ${pct}%  ${p.embedded}/${total} chunks  ${p.chunksPerSecond.toFixed(0)} chunks/s  ETA ${duration(eta)}`;
}

/** Embeds the chunks that have no vector yet, with a progress line; never fails the command. */
async function embedWithProgress(engine: IndexerEngine, tty: boolean): Promise<EmbedRunResult | undefined> {
  let last = 0;
  const result = await engine.embedPending({
    onProgress: (p) => {
      if (tty) process.stderr.write(`\r\u001b[2K${embedLine(p)}`);
      else if (p.elapsedMs - last >= 2000) {
        last = p.elapsedMs;
        process.stderr.write(`${embedLine(p)}\n`);
      }
    },
  });
  if (tty) process.stderr.write("\r\u001b[2K");
  return result;
}

/** `conhub index <path>`: indexes a local directory (keywords, then vectors), incrementally. */
export async function runIndex(path: string, opts: IndexCommandOptions): Promise<number> {
  const opened = await openIndexForCli("index", opts);
  if (!opened) return 2;
  const tty = Boolean(process.stderr.isTTY);
  let lastLine = 0;
  const onProgress = (p: LocalIngestProgress) => {
    if (p.phase === "done") return;
    if (tty) {
      process.stderr.write(`\r\u001b[2K${progressLine(p)}`);
    } else if (p.elapsedMs - lastLine >= 2000 || p.phase === "delete") {
      lastLine = p.elapsedMs;
      process.stderr.write(`${progressLine(p)}\n`);
    }
  };
  try {
    const summary = await ingestLocalDirectory(opened.index, path, {
      onProgress,
      progressIntervalMs: tty ? 100 : 500,
      ...(opts.full ? { full: true } : {}),
    });
    if (tty) process.stderr.write("\r\u001b[2K");
    // Keyword search works from here on; vectors follow (and never fail the command).
    const embedded = await embedWithProgress(opened, tty);
    const status = await opened.vectorStatus();
    const vectors = {
      provider: status.provider.provider,
      model: status.provider.model,
      store: status.store,
      embedded: status.embedded,
      chunks: status.chunks,
      ...(embedded ? { added: embedded.embedded, removed: embedded.removed } : {}),
      ...(embedded?.unavailable || status.reason
        ? { unavailable: embedded?.unavailable ?? status.reason }
        : {}),
    };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, vectors })}\n`);
      return 0;
    }
    const seconds = summary.elapsedMs / 1000;
    const skipped = Object.entries(summary.skipped)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(", ");
    const redactions = Object.entries(summary.redactions)
      .map(([rule, n]) => `${rule} ${n}`)
      .join(", ");
    const lines = [
      `Indexed ${summary.root}`,
      `  files      ${summary.files} (${(summary.bytes / MB).toFixed(1)} MB)`,
      `  indexed    ${summary.indexed} (${summary.chunks} chunks)`,
      `  unchanged  ${summary.unchanged}`,
      `  deleted    ${summary.deleted}`,
      `  skipped    ${skipped || "0"}`,
      `  redactions ${redactions || "0"}`,
      `  time       ${seconds.toFixed(1)} s, ${(summary.bytesProcessed / MB / Math.max(seconds, 0.001)).toFixed(1)} MB/s processed`,
      vectorsLine(vectors),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    return 0;
  } catch (err) {
    if (tty) process.stderr.write("\n");
    console.error(`conhub index: ${(err as Error).message}`);
    return 1;
  } finally {
    await opened.close();
  }
}

function vectorsLine(v: {
  provider: string;
  model: string;
  store: string;
  embedded: number;
  chunks: number;
  unavailable?: string;
}): string {
  if (v.provider === "none") return "  vectors    off (CONHUB_EMBEDDINGS=none): keyword search only";
  const head = `  vectors    ${v.embedded}/${v.chunks} chunks (${v.provider} ${v.model}, ${v.store})`;
  return v.unavailable
    ? `${head}\n             not available now: ${v.unavailable}\n             Keyword search works; run conhub index again to add vectors later.`
    : head;
}
