import { createServer, type Socket } from "node:net";
import { Writable } from "node:stream";
import { CONHUB_EVENTS_TOPIC, ConhubEvent } from "@conhub/models";
import { type BusEvent, createQueueBus, createRedisQueue, openSqliteQueue } from "@conhub/storage";
import { closeAfterTest, eventually, tempDir } from "@conhub/storage/testing";
import { createLogger } from "@conhub/utils";
import { describe, expect, it } from "vitest";
import { busPublisher } from "./publish.js";

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "warn", destination }) };
}

describe("platform events from the data service", () => {
  it("publishes events on conhub.events in the shared event shape", async () => {
    const queue = closeAfterTest(await openSqliteQueue({ path: `${await tempDir()}/queue.db`, pollMs: 20 }));
    const bus = createQueueBus(queue);
    const received: BusEvent[] = [];
    const sub = await bus.subscribe(CONHUB_EVENTS_TOPIC, "test-outbound", async (e) => {
      received.push(e);
    });
    const { logger, lines } = capturedLogger();
    await busPublisher(async () => bus, logger).publish("source.created", "org_1", { sourceId: "src_1" });
    await eventually(async () => expect(received).toHaveLength(1));
    await sub.stop();
    const event = ConhubEvent.parse(received[0]!.payload);
    expect(event).toMatchObject({
      type: "source.created",
      organizationId: "org_1",
      data: { sourceId: "src_1" },
    });
    expect(event.id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(Date.parse(event.occurredAt)).not.toBeNaN();
    expect(lines).toHaveLength(0);
  });

  it("never fails the caller when the bus does: a closed bus is logged and the call returns", async () => {
    const queue = closeAfterTest(await openSqliteQueue({ path: `${await tempDir()}/queue.db`, pollMs: 20 }));
    const bus = createQueueBus(queue);
    await bus.close();
    const { logger, lines } = capturedLogger();
    await expect(
      busPublisher(async () => bus, logger).publish("sync.completed", "org_1", { sourceId: "src_1" }),
    ).resolves.toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: "publishing a platform event failed",
      eventType: "sync.completed",
    });
  });

  it("gives up on a bus that does not answer, so a sync is not held up", async () => {
    // A server that accepts connections and never says a word: Redis commands wait forever.
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const queue = createRedisQueue({ url: `redis://127.0.0.1:${port}`, prefix: "conhub-test-silent:" });
    const { logger, lines } = capturedLogger();
    const started = Date.now();
    try {
      await busPublisher(async () => createQueueBus(queue), logger, 300).publish("sync.failed", "org_1", {});
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(3000);
      expect(lines[0]).toMatchObject({ eventType: "sync.failed" });
      expect(JSON.stringify(lines[0])).toMatch(/did not answer in 300 ms/);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      await Promise.race([queue.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
  });
});
