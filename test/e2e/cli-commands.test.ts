import { spawn } from "node:child_process";
import { targetNames } from "@conhub/config";
import { describe, expect, it } from "vitest";
import {
  cleanEnv,
  freePorts,
  portEnv,
  repoRoot,
  spawnConhub,
  stopConhub,
  tempDir,
  waitForUrl,
} from "../support/processes.js";

async function run(args: string[], env: Record<string, string | undefined>) {
  const proc = spawnConhub(args, cleanEnv(env));
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}

describe("conhub targets", () => {
  it("lists all twelve targets with ports and what each can do today", async () => {
    const { code, stdout } = await run(["targets", "--json"], {});
    expect(code).toBe(0);
    const { targets } = JSON.parse(stdout) as {
      targets: Array<{ name: string; port: number; capabilities: { summary: string; planned: string[] } }>;
    };
    expect(targets.map((t) => t.name)).toEqual([...targetNames]);
    const auth = targets.find((t) => t.name === "auth-service")!;
    expect(auth.port).toBe(3010);
    expect(auth.capabilities.summary.length).toBeGreaterThan(20);
    const billing = targets.find((t) => t.name === "billing-service")!;
    expect(billing.capabilities.summary).toContain("not built yet");
    const text = await run(["targets"], {});
    expect(text.stdout).toContain("auth-service");
    expect(text.stdout).toContain("/api/auth/*");
  });
});

describe("conhub config", () => {
  it("--check reports every problem at once and exits non-zero", async () => {
    const { code, stderr } = await run(["config", "--check"], {
      GATEWAY_PORT: "0x",
      DATABASE_URL: "postgres//missing-colon",
      HTTP_REQUEST_TIMEOUT_MS: "-5",
    });
    expect(code).toBe(2);
    expect(stderr).toContain("Configuration problems (3)");
    for (const v of ["GATEWAY_PORT", "DATABASE_URL", "HTTP_REQUEST_TIMEOUT_MS"]) expect(stderr).toContain(v);
  });

  it("--check requires a shared JWT_SECRET once the auth service stores keys in PostgreSQL", async () => {
    const { code, stderr } = await run(["config", "--check"], {
      DATABASE_URL: "postgres://conhub@127.0.0.1:5432/conhub",
    });
    expect(code).toBe(2);
    expect(stderr).toContain("JWT_SECRET: is required when DATABASE_URL is set");
    // Three targets read it; the problem is reported once.
    expect(stderr.match(/JWT_SECRET:/g)).toHaveLength(1);
    const ok = await run(["config", "--check"], {
      DATABASE_URL: "postgres://conhub@127.0.0.1:5432/conhub",
      JWT_SECRET: "a-shared-secret-0123456789abcdef",
    });
    expect(ok.code).toBe(0);
  });

  it("--check passes on the defaults", async () => {
    const { code, stdout } = await run(["config", "--check"], {});
    expect(code).toBe(0);
    expect(stdout).toContain("Configuration OK for 12 target(s)");
  });
});

describe("conhub migrate", () => {
  it("opens every service's store and reports what it applied", async () => {
    const dataDir = tempDir();
    const { code, stdout, stderr } = await run(["migrate"], { CONHUB_DATA_DIR: dataDir });
    expect(code, stderr).toBe(0);
    // A fresh store: every migration defined is newly applied, none was before.
    for (const target of ["auth-service", "data-service", "webhook-service"]) {
      expect(stdout).toMatch(
        new RegExp(`${target}\\s+sqlite\\s+([1-9]\\d*) newly applied, 0 already applied, \\1 defined`),
      );
    }
  });
});

describe("conhub doctor", () => {
  it("passes on a fresh machine, saying which adapters are embedded", async () => {
    const { env } = await portEnv();
    const { code, stdout } = await run(["doctor"], { ...env, CONHUB_DATA_DIR: tempDir() });
    expect(code, stdout).toBe(0);
    expect(stdout).toContain("(embedded)");
    expect(stdout).toContain("is writable");
    expect(stdout).toContain("No problems found.");
    expect(stdout).toMatch(/target auth-service\s+Accounts/);
  });

  it("names an unreachable PostgreSQL and Redis and a port held by another program", async () => {
    const { env, ports } = await portEnv();
    const [deadPort] = await freePorts(1);
    const blocker = await import("node:net").then(
      ({ createServer }) =>
        new Promise<import("node:net").Server>((resolve) => {
          const s = createServer();
          s.listen(ports.indexer, "127.0.0.1", () => resolve(s));
        }),
    );
    try {
      const { code, stdout } = await run(["doctor"], {
        ...env,
        CONHUB_DATA_DIR: tempDir(),
        DATABASE_URL: `postgres://conhub:secret-pw@127.0.0.1:${deadPort}/conhub`,
        JWT_SECRET: "doctor-test-secret-0123456789abcdef",
        REDIS_URL: `redis://127.0.0.1:${deadPort}`,
      });
      expect(code).toBe(1);
      expect(stdout).toContain(
        `PostgreSQL at postgres://conhub:***@127.0.0.1:${deadPort}/conhub is unreachable`,
      );
      expect(stdout).toContain(`Redis at redis://127.0.0.1:${deadPort} is unreachable`);
      expect(stdout).toContain(`indexer port ${ports.indexer} (INDEXER_PORT) is taken by another program`);
      expect(stdout).not.toContain("secret-pw");
    } finally {
      blocker.close();
    }
  });

  it("recognises a running ConHub on its ports", async () => {
    const { env } = await portEnv();
    const [authPort] = await freePorts(1);
    const dataDir = tempDir();
    const proc = spawnConhub(
      ["start", "--target", "auth-service"],
      cleanEnv({ ...env, AUTH_SERVICE_PORT: String(authPort), CONHUB_DATA_DIR: dataDir }),
    );
    try {
      await waitForUrl(`http://127.0.0.1:${authPort}/health`, 30_000, proc);
      const { stdout } = await run(["doctor", "--target", "auth-service"], {
        ...env,
        AUTH_SERVICE_PORT: String(authPort),
        CONHUB_DATA_DIR: dataDir,
      });
      expect(stdout).toContain(`auth-service port ${authPort} is served by a running ConHub (auth-service)`);
    } finally {
      await stopConhub(proc);
    }
  });
});

describe("npm run start -w <workspace>", () => {
  it("runs that one target", async () => {
    const [port] = await freePorts(1);
    const child = spawn("npm", ["run", "start", "-w", "services/billing-service", "--silent"], {
      cwd: repoRoot,
      env: cleanEnv({ BILLING_SERVICE_PORT: String(port), CONHUB_DATA_DIR: tempDir() }),
      stdio: "ignore",
      detached: true,
    });
    try {
      await waitForUrl(`http://127.0.0.1:${port}/api/billing/health`, 30_000);
      const body = (await (await fetch(`http://127.0.0.1:${port}/api/billing/health`)).json()) as {
        service: string;
      };
      expect(body.service).toBe("billing-service");
    } finally {
      // npm → sh → node: signal the whole group.
      process.kill(-child.pid!, "SIGTERM");
    }
  });
});
