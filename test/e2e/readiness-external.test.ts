import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cleanEnv,
  type FreshDatabase,
  freePorts,
  freshDatabase,
  PrivateRedis,
  type RunningConhub,
  spawnConhub,
  stopConhub,
  tempDir,
  waitForUrl,
} from "../support/processes.js";

interface Ready {
  status: string;
  checks: Array<{ name: string; kind: string; status: string; error: string | null }>;
}

/**
 * With REDIS_URL (and DATABASE_URL when the environment provides one, as CI
 * does) `/ready` lists the external stores; stopping Redis turns it to 503
 * naming Redis while `/health` stays 200; restarting Redis recovers without
 * restarting ConHub. The Redis here is the test's own, so stopping it
 * disturbs nothing else.
 */
describe("readiness with external stores", () => {
  let redis: PrivateRedis;
  let proc: RunningConhub;
  let base: string;
  let database: FreshDatabase | undefined;

  beforeAll(async () => {
    database = process.env.DATABASE_URL ? await freshDatabase(process.env.DATABASE_URL) : undefined;
    const [redisPort, authPort] = await freePorts(2);
    redis = new PrivateRedis(redisPort!);
    await redis.start();
    base = `http://127.0.0.1:${authPort}`;
    proc = spawnConhub(
      ["start", "--target", "auth-service"],
      cleanEnv({
        CONHUB_DATA_DIR: tempDir(),
        AUTH_SERVICE_PORT: String(authPort),
        REDIS_URL: redis.url,
        DATABASE_URL: database?.url,
        JWT_SECRET: "readiness-test-secret-0123456789abcdef",
      }),
    );
    await waitForUrl(`${base}/health`, 30_000, proc);
  }, 40_000);

  afterAll(async () => {
    if (proc) await stopConhub(proc, "SIGKILL");
    await redis?.stop();
    await database?.drop();
  });

  const ready = async () => {
    const res = await fetch(`${base}/ready`);
    return { status: res.status, body: (await res.json()) as Ready };
  };

  it("lists the external stores", async () => {
    const { status, body } = await ready();
    expect(status, JSON.stringify(body)).toBe(200);
    const names = body.checks.map((c) => c.name);
    expect(names).toContain("redis");
    expect(body.checks.find((c) => c.name === "redis")?.kind).toBe("external");
    if (process.env.DATABASE_URL) {
      expect(names).toContain("postgresql");
      expect(names).not.toContain("sqlite");
    } else {
      expect(names).toContain("sqlite");
    }
  });

  it("turns /ready to 503 naming Redis when Redis stops, while /health stays 200", async () => {
    await redis.stop();
    const { status, body } = await ready();
    expect(status).toBe(503);
    const check = body.checks.find((c) => c.name === "redis");
    expect(check?.status).toBe("down");
    expect(check?.error).toMatch(/^Redis at 127\.0\.0\.1:\d+ is unreachable/);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect((await fetch(`${base}/api/auth/health`)).status).toBe(200);
  });

  it("recovers when Redis comes back, without restarting ConHub", async () => {
    await redis.start();
    const deadline = Date.now() + 15_000;
    let last = await ready();
    while (last.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      last = await ready();
    }
    expect(last.status, JSON.stringify(last.body)).toBe(200);
    expect(proc.child.exitCode).toBeNull();
  });
});
