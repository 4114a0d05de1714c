import { ingestLocalDirectory, type LocalIngestProgress } from "@conhub/indexer";
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

/** `conhub index <path>`: indexes a local directory into the embedded keyword index, incrementally. */
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
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
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
