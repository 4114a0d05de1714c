import { describe, expect, it } from "vitest";
import { eventually, reachableRelationalAdapters, startTcpProxy } from "../testing/index.js";
import { openPostgresStore, postgresAddress } from "./postgres.js";

const postgres = reachableRelationalAdapters().find((a) => a.name === "postgres");

describe("PostgreSQL store", () => {
  it("says which server is unreachable and why, without the password", async () => {
    const url = "postgres://postgres:s3cret-pw@127.0.0.1:1/conhub";
    const started = Date.now();
    const error = await openPostgresStore({ url, service: "auth-service", connectTimeoutMs: 2000 }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error?.message).toMatch(/^PostgreSQL at 127\.0\.0\.1:1 is unreachable: ECONNREFUSED/);
    expect(error?.message).not.toContain("s3cret-pw");
    expect(Date.now() - started).toBeLessThan(3000);
    expect(postgresAddress(url)).toBe("127.0.0.1:1");
  });

  if (postgres) {
    it("turns unhealthy when the server goes away and healthy when it is back", async () => {
      const spec = await postgres!.backend();
      if (spec.kind !== "postgres") throw new Error("expected a PostgreSQL backend");
      const url = new URL(spec.url);
      const proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
      url.host = `127.0.0.1:${proxy.port}`;
      const store = await openPostgresStore({ url: url.toString(), service: spec.service, poolMax: 2 });
      try {
        await store.health.check();
        await proxy.stop();
        await expect(store.health.check()).rejects.toThrow(
          new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:${proxy.port} is unreachable`),
        );
        await proxy.start();
        await eventually(() => store.health.check(), 10_000);
      } finally {
        await store.close();
        await proxy.close();
      }
    });
  }
});
