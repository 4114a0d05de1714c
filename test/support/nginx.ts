import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./processes.js";

/** The nginx binary, or undefined when nginx is not installed. */
export function findNginx(): string | undefined {
  for (const candidate of [
    "/usr/sbin/nginx",
    "/usr/local/sbin/nginx",
    "/usr/local/bin/nginx",
    "/usr/bin/nginx",
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * `nginx/nginx.conf` exactly as committed, made runnable by an unprivileged
 * local nginx: upstream hosts become 127.0.0.1 (the compose service names do
 * not resolve here), the listen port is `port`, and pid, logs and temp files
 * live in `prefix`. Every location, header and limit is the committed one.
 */
export function localNginxConfig(port: number, prefix: string): string {
  let conf = readFileSync(join(repoRoot, "nginx/nginx.conf"), "utf8");
  conf = conf.replace(/^(\s*server\s+)[a-z0-9-]+(:\d+)/gm, "$1127.0.0.1$2");
  conf = conf.replace(/^\s*listen\s+\[::\]:80[^;]*;\s*$/gm, "");
  conf = conf.replace(/^(\s*listen\s+)80(\b[^;]*;)/gm, `$1127.0.0.1:${port}$2`);
  conf = conf.replace(/^\s*(user|pid|error_log)\s[^;]*;\s*$/gm, "");
  conf = conf.replace(/^(\s*access_log\s+)\/[^\s;]+/gm, `$1${join(prefix, "access.log")}`);
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `  ${kind}_temp_path ${join(prefix, `${kind}_temp`)};`)
    .join("\n");
  conf = conf.replace(/^http\s*\{/m, `http {\n${temp}`);
  return `pid ${join(prefix, "nginx.pid")};\nerror_log ${join(prefix, "error.log")} warn;\n${conf}`;
}

export class LocalNginx {
  private child: ChildProcess | undefined;
  constructor(
    readonly binary: string,
    readonly prefix: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    mkdirSync(this.prefix, { recursive: true });
    const confPath = join(this.prefix, "nginx.conf");
    writeFileSync(confPath, localNginxConfig(this.port, this.prefix));
    execFileSync(this.binary, ["-t", "-q", "-p", this.prefix, "-c", confPath], { stdio: "pipe" });
    this.child = spawn(this.binary, ["-p", this.prefix, "-c", confPath, "-g", "daemon off;"], {
      stdio: "ignore",
    });
  }

  errorLog(): string {
    const path = join(this.prefix, "error.log");
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGQUIT");
    await exited;
  }
}
