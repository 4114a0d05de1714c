import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

/** Small helpers the benchmarks share: arguments, percentiles, the machine line, sizes. */

export function arg(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

export function intArg(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const n = Number(raw.replaceAll("_", ""));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return n;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

export function ms(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(bytes >= 2 ** 30 ? 0 : 1)} MiB`;
}

/** Bytes of a file or of everything under a directory. */
export function diskBytes(path: string): number {
  const info = statSync(path, { throwIfNoEntry: false });
  if (!info) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += diskBytes(join(path, entry));
  return total;
}

export function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(" / ");
}

export function machineLine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** The repository's commit, with `+dirty` when the indexer's sources differ from it. */
export function repoCommit(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short=11", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "indexers/src"], {
      encoding: "utf8",
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown";
  }
}

/** The corpus's git commit when it is a checkout (or when `BENCH_CORPUS_COMMIT` names it). */
export function corpusCommit(dir: string): string | undefined {
  if (process.env.BENCH_CORPUS_COMMIT) return process.env.BENCH_CORPUS_COMMIT;
  try {
    return execFileSync("git", ["-C", dir, "rev-parse", "--short=11", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

export function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs git in `cwd` with a fixed identity and no user or system configuration; returns stdout, trimmed. */
export function benchGit(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "Bench",
      GIT_AUTHOR_EMAIL: "bench@example.com",
      GIT_COMMITTER_NAME: "Bench",
      GIT_COMMITTER_EMAIL: "bench@example.com",
    },
  }).trim();
}

/** Files and bytes of a working tree, `.git` left out. */
export function treeSize(root: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name === ".git") continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  walk(root);
  return { files, bytes };
}
