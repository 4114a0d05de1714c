import { describe, expect, it } from "vitest";
import { deferred, sleep } from "../internal/async.js";
import type { BusEvent, EventBus, JobQueue } from "../ports.js";
import {
  closeAfterTest,
  eventually,
  openQueueFromSpec,
  type QueueSpec,
  reachableQueueAdapters,
} from "../testing/index.js";
import { createQueueBus } from "./queue-bus.js";

/** A bus on its own queue handle: another process, as far as the backend can tell. */
async function openBus(spec: QueueSpec): Promise<{ bus: EventBus; queue: JobQueue }> {
  const queue = closeAfterTest(await openQueueFromSpec(spec));
  // Closed before its queue (handlers registered later run first).
  const bus = closeAfterTest(createQueueBus(queue));
  return { bus, queue };
}

function collector<T>() {
  const events: BusEvent<T>[] = [];
  return {
    events,
    handler: async (event: BusEvent<T>) => {
      events.push(event);
    },
    payloads: () => events.map((e) => e.payload),
  };
}

async function until(check: () => boolean, timeoutMs = 10_000) {
  await eventually(async () => {
    if (!check()) throw new Error("not yet");
  }, timeoutMs);
}

describe.each(reachableQueueAdapters())("EventBus contract (on the $name queue)", (adapter) => {
  it("delivers every event to every group", async () => {
    const spec = await adapter.backend();
    const { bus: publisher } = await openBus(spec);
    const { bus: indexer } = await openBus(spec);
    const { bus: audit } = await openBus(spec);
    const a = collector<{ n: number }>();
    const b = collector<{ n: number }>();
    await indexer.subscribe("document.changed", "indexer", a.handler);
    await audit.subscribe("document.changed", "audit", b.handler);
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await publisher.publish("document.changed", { n }));
    await until(() => a.events.length === 5 && b.events.length === 5);
    for (const c of [a, b]) {
      expect(
        c
          .payloads()
          .map((p) => p.n)
          .sort(),
      ).toEqual([0, 1, 2, 3, 4]);
      expect(c.events.map((e) => e.id).sort()).toEqual([...ids].sort());
      expect(c.events.every((e) => e.topic === "document.changed" && e.publishedAt instanceof Date)).toBe(
        true,
      );
    }
    await sleep(100);
    expect(a.events).toHaveLength(5);
    expect(b.events).toHaveLength(5);
  });

  it("shares a group's events between its members", async () => {
    const spec = await adapter.backend();
    const { bus: publisher } = await openBus(spec);
    const { bus: m1 } = await openBus(spec);
    const { bus: m2 } = await openBus(spec);
    const got = { m1: [] as number[], m2: [] as number[] };
    await m1.subscribe<{ n: number }>("sync.requested", "syncers", async (e) => {
      got.m1.push(e.payload.n);
      await sleep(40);
    });
    await m2.subscribe<{ n: number }>("sync.requested", "syncers", async (e) => {
      got.m2.push(e.payload.n);
      await sleep(40);
    });
    for (let n = 0; n < 10; n++) await publisher.publish("sync.requested", { n });
    await until(() => got.m1.length + got.m2.length === 10);
    await sleep(100);
    expect([...got.m1, ...got.m2].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(got.m1.length).toBeGreaterThan(0);
    expect(got.m2.length).toBeGreaterThan(0);
  });

  it("keeps events published while a group is down until it subscribes again", async () => {
    const spec = await adapter.backend();
    const { bus: publisher } = await openBus(spec);
    const first = await openBus(spec);
    const before = collector<string>();
    const sub = await first.bus.subscribe("source.deleted", "cleanup", before.handler);
    await publisher.publish("source.deleted", "one");
    await until(() => before.events.length === 1);
    await sub.stop();

    await publisher.publish("source.deleted", "two");
    await publisher.publish("source.deleted", "three");
    await sleep(150);
    expect(before.payloads()).toEqual(["one"]);

    // A new process of the same group.
    const second = await openBus(spec);
    const after = collector<string>();
    await second.bus.subscribe("source.deleted", "cleanup", after.handler);
    await until(() => after.events.length === 2);
    expect(after.payloads().sort()).toEqual(["three", "two"]);
  });

  it("does not deliver events published before a group first subscribed, nor other topics", async () => {
    const spec = await adapter.backend();
    const { bus } = await openBus(spec);
    await bus.publish("user.created", { early: true });
    const c = collector<{ early: boolean }>();
    await bus.subscribe("user.created", "welcome", c.handler);
    const other = collector<unknown>();
    await bus.subscribe("user.deleted", "welcome", other.handler);
    await bus.publish("user.created", { early: false });
    await until(() => c.events.length === 1);
    await sleep(150);
    expect(c.payloads()).toEqual([{ early: false }]);
    expect(other.events).toEqual([]);
  });

  it("redelivers an event whose handler failed", async () => {
    const spec = await adapter.backend();
    const queue = closeAfterTest(await openQueueFromSpec(spec));
    const bus = closeAfterTest(createQueueBus(queue, { worker: { backoffMs: () => 20 } }));
    let calls = 0;
    const done = deferred<string>();
    await bus.subscribe<string>("payment.failed", "notifier", async (event) => {
      calls += 1;
      if (calls < 3) throw new Error("mail server down");
      done.resolve(event.payload);
    });
    await bus.publish("payment.failed", "invoice-7");
    expect(await done.promise).toBe("invoice-7");
    expect(calls).toBe(3);
  });

  it("refuses topic and group names that could collide", async () => {
    const { bus } = await openBus(await adapter.backend());
    await expect(bus.subscribe("a.b", "c.d", async () => undefined)).rejects.toThrow(TypeError);
    await expect(bus.publish("has space", {})).rejects.toThrow(TypeError);
    await expect(bus.health.check()).resolves.toBeUndefined();
  });
});
