/**
 * Two deployments on different PostgreSQL databases sharing one Redis keep
 * their Redis state apart (REDIS_KEY_PREFIX defaults to `conhub:<database>:`):
 * one deployment exhausting a rate limit leaves the other's untouched.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { type FreshDatabase, freshDatabase, portEnv, tempDir } from "../support/processes.js";

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;

describe.runIf(databaseUrl && redisUrl)("deployments sharing one Redis", () => {
  const platforms: Platform[] = [];
  const databases: FreshDatabase[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const database = await freshDatabase(databaseUrl!);
      databases.push(database);
      const { env } = await portEnv();
      platforms.push(
        await startPlatform({
          targets: ["auth-service"],
          env: {
            ...env,
            DATABASE_URL: database.url,
            REDIS_URL: redisUrl!,
            JWT_SECRET: "redis-isolation-test-secret-0123456789abcdef",
            CONHUB_DATA_DIR: tempDir("conhub-redis-iso-"),
            LOG_LEVEL: "error",
          },
        }),
      );
    }
  }, 120_000);
  afterAll(async () => {
    for (const p of platforms) await p.stop();
    for (const d of databases) await d.drop();
  });

  const register = (p: Platform) =>
    fetch(`http://127.0.0.1:${p.ports["auth-service"]}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        email: `u-${randomUUID()}@example.com`,
        password: "correct horse battery staple",
      }),
    });

  it("one deployment's exhausted registration limit does not limit the other", async () => {
    const [a, b] = platforms as [Platform, Platform];
    // 30 registrations per address per hour: the 31st from this address is refused on A…
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await register(a)).status);
    expect(statuses.slice(0, 30).every((s) => s === 202)).toBe(true);
    expect(statuses[30]).toBe(429);
    // …while B, on another database and the same Redis, has its own count.
    expect((await register(b)).status).toBe(202);
  }, 120_000);
});
