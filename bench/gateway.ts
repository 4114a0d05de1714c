/**
 * Gateway overhead: requests/s and latency of `/health` served directly by a
 * service, through the one-process gateway, and through nginx; plus the time
 * `conhub start` takes to answer and the time Ctrl-C takes to exit.
 * ConHub runs on the seed ports (stop any running ConHub first).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { findNginx, LocalNginx } from "../test/support/nginx.js";
import {
  cleanEnv,
  freePorts,
  spawnConhub,
  stopConhub,
  tempDir,
  waitForUrl,
} from "../test/support/processes.js";

const durationSeconds = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Row {
  label: string;
  url: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

const wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].find((p) => existsSync(p));
export const loadTool = wrk ? "wrk (1 thread)" : "autocannon";

/** wrk's `--latency` distribution line, e.g. `99%   12.34ms`, in milliseconds. */
function wrkPercentile(text: string, pct: string): number {
  const match = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)`, "m").exec(text);
  if (!match) throw new Error(`no ${pct}% line in wrk output:\n${text}`);
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

function runWrk(url: string, seconds: number): string {
  return execFileSync(wrk!, ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", url], {
    encoding: "utf8",
  });
}

async function load(label: string, url: string): Promise<Row> {
  // Warm up (JIT, keep-alive pools), then measure.
  if (wrk) {
    runWrk(url, 2);
    const out = runWrk(url, durationSeconds);
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
    const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
    return {
      label,
      url,
      rps: Math.round(rps),
      p50: wrkPercentile(out, "50"),
      p99: wrkPercentile(out, "99"),
      errors,
    };
  }
  await autocannon({ url, connections, duration: 2 });
  const result = await autocannon({ url, connections, duration: durationSeconds });
  return {
    label,
    url,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runGatewayBench(): Promise<void> {
  const env = cleanEnv({ CONHUB_DATA_DIR: tempDir("conhub-bench-"), LOG_LEVEL: "warn" });

  // Start-up and shutdown, five times each.
  const startMs: number[] = [];
  const stopMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const proc = spawnConhub(["start"], env);
    await waitForUrl("http://127.0.0.1:8000/api/auth/health", 30_000, proc);
    startMs.push(performance.now() - t0);
    const t1 = performance.now();
    const code = await stopConhub(proc, "SIGINT");
    stopMs.push(performance.now() - t1);
    if (code !== 0) throw new Error(`conhub exited ${code} on SIGINT`);
  }

  const proc = spawnConhub(["start"], env);
  await waitForUrl("http://127.0.0.1:8000/health", 30_000, proc);
  const rows: Row[] = [];
  try {
    // The indexer's route: /api/ routes are rate-limited by nginx, which would measure 429s.
    rows.push(await load("indexer directly", "http://127.0.0.1:8080/indexer/health"));
    rows.push(await load("one-process gateway → indexer", "http://127.0.0.1:8000/indexer/health"));
    const nginxBinary = findNginx();
    if (nginxBinary) {
      const [port] = await freePorts(1);
      const nginx = new LocalNginx(nginxBinary, join(tempDir("conhub-bench-nginx-"), "nginx"), port!);
      await nginx.start();
      try {
        await waitForUrl(`http://127.0.0.1:${port}/health`, 10_000);
        rows.push(await load("nginx → indexer (split shape)", `http://127.0.0.1:${port}/indexer/health`));
      } finally {
        await nginx.stop();
      }
    } else {
      console.error("nginx not installed: skipping the nginx row (apt-get install -y nginx)");
    }
  } finally {
    await stopConhub(proc, "SIGINT");
  }

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`### Gateway overhead (${new Date().toISOString().slice(0, 10)})\n`);
  console.log(
    `Machine: ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. ` +
      `${loadTool}, ${connections} connections, ${durationSeconds} s after a 2 s warm-up, on the same machine as the servers.\n`,
  );
  console.log("| Path | requests/s | p50 ms | p99 ms | errors |");
  console.log("|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.label} (\`${new URL(r.url).pathname}\`) | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`,
    );
  console.log(
    `\n\`conhub start\` (all twelve targets, embedded storage) to first answer on the gateway: median ${Math.round(median(startMs))} ms ` +
      `(runs: ${startMs.map((v) => Math.round(v)).join(", ")}). Ctrl-C to exit: median ${Math.round(median(stopMs))} ms ` +
      `(runs: ${stopMs.map((v) => Math.round(v)).join(", ")}).\n`,
  );
}
