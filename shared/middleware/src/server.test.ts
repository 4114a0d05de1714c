import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { listen, trustedProxyList } from "./server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("listen / close (graceful shutdown)", () => {
  it("lets an in-flight request finish, then stops accepting", async () => {
    const server = await listen(
      async (req) => {
        if (new URL(req.url).pathname === "/slow") await sleep(400);
        return new Response("done");
      },
      0,
      "127.0.0.1",
      "Test",
    );
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/fast`)).text()).toBe("done");
    const slow = fetch(`${base}/slow`).then((r) => r.text());
    await sleep(50);
    const closed = server.close(4000);
    expect(await slow).toBe("done");
    await closed;
    await expect(fetch(`${base}/fast`)).rejects.toThrow();
  });

  it("cuts a request still running when the grace period ends", async () => {
    const server = await listen(
      async () => {
        await sleep(5000);
        return new Response("too late");
      },
      0,
      "127.0.0.1",
      "Test",
    );
    const stuck = fetch(`http://127.0.0.1:${server.port}/`).then(
      () => "answered",
      () => "cut",
    );
    await sleep(50);
    await server.close(200);
    expect(await stuck).toBe("cut");
  });

  it("refuses a port that is taken, naming it", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(listen(() => new Response(""), port, "127.0.0.1", "Auth Service")).rejects.toThrow(
        `Auth Service cannot listen on 127.0.0.1:${port}: port ${port} is already in use`,
      );
    } finally {
      blocker.close();
    }
  });

  it("believes X-Real-IP only from trusted proxies and otherwise uses the socket address", async () => {
    const echo = (req: Request) =>
      Response.json({ realIp: req.headers.get("x-real-ip"), forwarded: req.headers.get("x-forwarded-for") });
    const spoof = { "x-real-ip": "203.0.113.9", "x-forwarded-for": "198.51.100.1" };

    const behindProxy = await listen(echo, 0, "127.0.0.1", "Test", trustedProxyList(["127.0.0.1", "::1"]));
    const exposed = await listen(echo, 0, "127.0.0.1", "Test", trustedProxyList(["10.0.0.0/8"]));
    try {
      const trusted = await (await fetch(`http://127.0.0.1:${behindProxy.port}/`, { headers: spoof })).json();
      expect(trusted).toEqual({ realIp: "203.0.113.9", forwarded: "198.51.100.1" });
      const unset = await (await fetch(`http://127.0.0.1:${behindProxy.port}/`)).json();
      expect(unset).toEqual({ realIp: "127.0.0.1", forwarded: null });
      const untrusted = await (await fetch(`http://127.0.0.1:${exposed.port}/`, { headers: spoof })).json();
      expect(untrusted).toEqual({ realIp: "127.0.0.1", forwarded: null });
    } finally {
      await behindProxy.close(100);
      await exposed.close(100);
    }
  });
});
