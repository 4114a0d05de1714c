import { createServer, type IncomingHttpHeaders } from "node:http";
import type { JobQueue, RelationalStore, Worker } from "@conhub/storage";
import {
  closeAfterTest,
  eventually,
  openQueueFromSpec,
  openRelationalFromSpec,
  reachableQueueAdapters,
  reachableRelationalAdapters,
} from "@conhub/storage/testing";
import { createLogger, createSecretBox } from "@conhub/utils";
import { parseNetworkPolicy } from "@conhub/utils/net";
import type { Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type OutboundSettings, outboundConfigShape, parseDuration } from "./config.js";
import { deliveryHandler, fanOut, newId, OUTBOUND_QUEUE, retryDelayMs } from "./delivery.js";
import { outboundMigrations } from "./migrations.js";
import type { OutboundDatabase } from "./schema.js";
import { endpointSecretContext, newEndpointSecret, outboundSecretBoxDomain } from "./secrets.js";

describe("outbound settings", () => {
  it("reads durations and the retry schedule, and names what is wrong", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("5d")).toBe(432_000_000);
    expect(parseDuration("5 weeks")).toBeUndefined();
    const schema = z.object(outboundConfigShape);
    const parsed = schema.parse({});
    expect(parsed.WEBHOOK_RETRY_SCHEDULE).toEqual([
      5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(parsed.WEBHOOK_DISABLE_AFTER).toBe(432_000_000);
    expect(parsed.WEBHOOK_ALLOW_PRIVATE_NETWORKS.allowsPrivate("127.0.0.1")).toBe(false);
    const bad = schema.safeParse({
      WEBHOOK_RETRY_SCHEDULE: "1s,soon",
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "intranet",
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path[0]).sort()).toEqual([
      "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
      "WEBHOOK_RETRY_SCHEDULE",
    ]);
  });

  it("waits the schedule's entry with ±10% jitter, and stops after the last", () => {
    const schedule = [1000, 60_000];
    expect(retryDelayMs(schedule, 1, () => 0)).toBe(900);
    expect(retryDelayMs(schedule, 1, () => 1)).toBe(1100);
    expect(retryDelayMs(schedule, 2, () => 0.5)).toBe(60_000);
    expect(retryDelayMs(schedule, 3)).toBeUndefined();
    const spread = new Set(Array.from({ length: 50 }, () => retryDelayMs(schedule, 2)));
    expect(spread.size).toBeGreaterThan(1);
    for (const ms of spread) expect(ms! >= 54_000 && ms! <= 66_000).toBe(true);
  });
});

const relational = reachableRelationalAdapters();
const queues = reachableQueueAdapters();
// SQLite with the SQLite queue; PostgreSQL with Redis when both are set.
const pairs = relational.map((r, i) => ({
  name: `${r.name}+${(queues[i] ?? queues[0]!).name}`,
  r,
  q: queues[i] ?? queues[0]!,
}));

describe.each(pairs)("outbound deliveries ($name)", ({ r, q }) => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(1000);
    worker = undefined;
  });

  async function setup(settings: Partial<OutboundSettings>) {
    const store: RelationalStore = closeAfterTest(await openRelationalFromSpec(await r.backend()));
    await store.migrate(outboundMigrations);
    const db = store.db as Kysely<OutboundDatabase>;
    const queue: JobQueue = closeAfterTest(await openQueueFromSpec(await q.backend()));
    const box = createSecretBox(["an-outbound-test-master-secret-0123456789"], outboundSecretBoxDomain);
    const policy = parseNetworkPolicy("127.0.0.1");
    if (typeof policy === "string") throw new Error(policy);
    const full: OutboundSettings = {
      policy,
      allowHttp: true,
      retryScheduleMs: [200],
      disableAfterFailures: 100,
      disableAfterMs: 3_600_000,
      timeoutMs: 5000,
      concurrency: 2,
      ...settings,
    };
    const hits: Array<{ status: number; headers: IncomingHttpHeaders; at: number }> = [];
    let answer = 200;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        hits.push({ status: answer, headers: req.headers, at: Date.now() });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    closeAfterTest({ close: () => new Promise<void>((done) => server.close(() => done())) });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const addEndpoint = async () => {
      const id = newId("ep");
      const now = new Date().toISOString();
      await db
        .insertInto("outbound_endpoints")
        .values({
          id,
          organization_id: "org_1",
          url,
          description: null,
          events: JSON.stringify(["sync.failed"]),
          secret: box.seal(newEndpointSecret(), endpointSecretContext(id)),
          previous_secret: null,
          previous_secret_expires_at: null,
          enabled: 1,
          disabled_at: null,
          disabled_reason: null,
          failed_deliveries: 0,
          failing_since: null,
          last_success_at: null,
          created_by: "usr_1",
          created_at: now,
          updated_at: now,
        })
        .execute();
      return id;
    };
    const deps = { db, queue, box, settings: full, logger: createLogger({ level: "silent" }) };
    worker = queue.work(OUTBOUND_QUEUE, deliveryHandler(deps), { concurrency: 2, leaseMs: 10_000 });
    return {
      db,
      deps,
      hits,
      addEndpoint,
      setAnswer: (s: number) => {
        answer = s;
      },
    };
  }

  const message = (id: string) => ({
    id,
    organizationId: "org_1",
    type: "sync.failed",
    body: JSON.stringify({ type: "sync.failed", timestamp: new Date().toISOString(), data: {} }),
  });

  it("makes one delivery per message and endpoint, however often the event arrives", async () => {
    const t = await setup({});
    const ep = await t.addEndpoint();
    const msg = message(newId("evt"));
    const first = await fanOut(t.deps, msg, [ep]);
    const again = await fanOut(t.deps, msg, [ep]);
    expect(again).toEqual(first);
    await eventually(async () => {
      const d = await t.db
        .selectFrom("outbound_deliveries")
        .selectAll()
        .where("id", "=", first[0]!)
        .executeTakeFirst();
      expect(d?.state).toBe("succeeded");
    });
    await new Promise((done) => setTimeout(done, 400));
    expect(t.hits).toHaveLength(1);
    expect(t.hits[0]!.headers["webhook-id"]).toBe(msg.id);
  });

  it("sends nothing unsigned: a secret that cannot be opened fails the attempt and says what to do", async () => {
    const t = await setup({ retryScheduleMs: [] });
    const ep = await t.addEndpoint();
    // Sealed under another master secret (as after JWT_SECRET changed).
    const other = createSecretBox(["another-master-secret-0123456789abcdef"], outboundSecretBoxDomain);
    await t.db
      .updateTable("outbound_endpoints")
      .set({ secret: other.seal(newEndpointSecret(), endpointSecretContext(ep)) })
      .where("id", "=", ep)
      .execute();
    const [delivery] = await fanOut(t.deps, message(newId("evt")), [ep]);
    const attempt = await eventually(async () =>
      t.db
        .selectFrom("outbound_attempts")
        .selectAll()
        .where("delivery_id", "=", delivery!)
        .executeTakeFirstOrThrow(),
    );
    expect(attempt).toMatchObject({ status: "failed", status_code: null });
    expect(attempt.error).toMatch(/signing secret cannot be opened.*rotate the secret/);
    expect(t.hits).toHaveLength(0);
  });

  it("disables an endpoint that has failed for longer than WEBHOOK_DISABLE_AFTER and cancels what it had queued", async () => {
    const t = await setup({ retryScheduleMs: [150, 150, 150, 150, 150, 150, 150, 150], disableAfterMs: 400 });
    t.setAnswer(503);
    const ep = await t.addEndpoint();
    const [delivery] = await fanOut(t.deps, message(newId("evt")), [ep]);
    const endpoint = await eventually(async () => {
      const row = await t.db
        .selectFrom("outbound_endpoints")
        .selectAll()
        .where("id", "=", ep)
        .executeTakeFirstOrThrow();
      expect(row.enabled).toBe(0);
      return row;
    }, 10_000);
    expect(endpoint.disabled_reason).toMatch(/failed for more than 0\.4 s.*answered 503/);
    const seen = t.hits.length;
    // At least two tries 150 ms apart (fewer on a busy machine: the rule is about time, not count).
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(seen).toBeLessThan(9);
    const d = await t.db
      .selectFrom("outbound_deliveries")
      .selectAll()
      .where("id", "=", delivery!)
      .executeTakeFirstOrThrow();
    expect(d.state).toBe("cancelled");
    await new Promise((done) => setTimeout(done, 500));
    expect(t.hits).toHaveLength(seen);
  });

  it("counts deliveries that failed every attempt, and a success resets the count", async () => {
    const t = await setup({ retryScheduleMs: [100], disableAfterFailures: 2 });
    t.setAnswer(500);
    const ep = await t.addEndpoint();
    const read = () =>
      t.db.selectFrom("outbound_endpoints").selectAll().where("id", "=", ep).executeTakeFirstOrThrow();
    await fanOut(t.deps, message(newId("evt")), [ep]);
    await eventually(async () => expect((await read()).failed_deliveries).toBe(1));
    expect((await read()).enabled).toBe(1);
    t.setAnswer(204);
    await fanOut(t.deps, message(newId("evt")), [ep]);
    await eventually(async () => expect((await read()).last_success_at).not.toBeNull());
    expect(await read()).toMatchObject({ failed_deliveries: 0, failing_since: null, enabled: 1 });
    t.setAnswer(500);
    await fanOut(t.deps, message(newId("evt")), [ep]);
    await fanOut(t.deps, message(newId("evt")), [ep]);
    const disabled = await eventually(async () => {
      const row = await read();
      expect(row.enabled).toBe(0);
      return row;
    });
    expect(disabled.disabled_reason).toMatch(/^2 deliveries in a row failed every attempt/);
  });
});
