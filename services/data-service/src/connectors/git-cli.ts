import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

/**
 * git through `child_process` with argument arrays (never a shell). The
 * environment is closed off from the machine's git setup: no system or user
 * config (no credential helpers, no aliases), no terminal prompts.
 */

export interface GitOptions {
  cwd?: string;
  /** Extra config entries passed through GIT_CONFIG_* (not visible in the process list). */
  config?: Array<[string, string]>;
  signal?: AbortSignal;
  /** Bytes of stdout kept at most (default 256 MiB). */
  maxOutput?: number;
}

export class GitError extends Error {
  override readonly name = "GitError";
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }
}

export function gitEnv(config: Array<[string, string]> = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: "C",
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_ASKPASS: "echo",
    SSH_ASKPASS: "echo",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

/** Runs git and returns stdout; rejects with a GitError holding stderr. */
export function git(args: string[], options: GitOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, {
      cwd: options.cwd,
      env: gitEnv(options.config),
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    const max = options.maxOutput ?? 256 * 1024 * 1024;
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      outBytes += d.length;
      if (outBytes <= max) out.push(d);
    });
    child.stderr.on("data", (d: Buffer) => {
      if (err.length < 64 * 1024) err += d.toString("utf8");
    });
    child.on("error", (e) => reject(e));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new GitError(
            `git ${args[0]} failed (exit ${code}): ${err.trim().split("\n").slice(-3).join(" ")}`,
            err,
            code,
          ),
        );
    });
  });
}

/**
 * `git cat-file --batch`: one long-lived process answering blob reads in
 * order, so reading thousands of files costs one process, not thousands.
 */
export class BlobReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (b: Buffer) => void; reject: (e: Error) => void; id: string }> =
    [];
  private failed: Error | undefined;

  constructor(cwd: string) {
    this.child = spawn("git", ["cat-file", "--batch"], {
      cwd,
      env: gitEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.on("data", (d: Buffer) => {
      this.buffer = this.buffer.length === 0 ? d : Buffer.concat([this.buffer, d]);
      this.drain();
    });
    const fail = (e: Error) => {
      this.failed = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.child.on("error", fail);
    this.child.on("close", () => fail(new GitError("git cat-file exited", "", null)));
    this.child.stdin.on("error", () => undefined);
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0) return;
      const header = this.buffer.subarray(0, nl).toString("utf8");
      const head = this.waiting[0]!;
      if (header.endsWith(" missing")) {
        this.buffer = this.buffer.subarray(nl + 1);
        this.waiting.shift();
        head.reject(new GitError(`object ${head.id} is missing`, "", null));
        continue;
      }
      const size = Number(header.split(" ")[2]);
      if (this.buffer.length < nl + 1 + size + 1) return;
      const body = Buffer.from(this.buffer.subarray(nl + 1, nl + 1 + size));
      this.buffer = this.buffer.subarray(nl + 1 + size + 1);
      this.waiting.shift();
      head.resolve(body);
    }
  }

  read(id: string): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, id });
      this.child.stdin.write(`${id}\n`);
    });
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}
