import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { contextFromHeaders, runWithRequestContext } from "@conhub/utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFetch, inProcessFetch } from "./service-fetch.js";

const incoming = contextFromHeaders(
  new Headers({
    "x-request-id": "req-9",
    traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  }),
);

describe("service fetch", () => {
  let server: Server;
  let baseUrl: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({ path: req.url, rid: req.headers["x-request-id"], tp: req.headers.traceparent }),
      );
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("calls an in-process handler with the request id and trace of the request being served", async () => {
    const call = inProcessFetch("auth-service", (req) =>
      Response.json({
        path: new URL(req.url).pathname,
        rid: req.headers.get("x-request-id"),
        tp: req.headers.get("traceparent"),
      }),
    );
    const body = await runWithRequestContext(incoming, async () => (await call("/api/auth/verify")).json());
    expect(body).toEqual({
      path: "/api/auth/verify",
      rid: "req-9",
      tp: `00-4bf92f3577b34da6a3ce929d0e0e4736-${incoming.spanId}-01`,
    });
  });

  it("calls over HTTP the same way, keeping the path under the base URL", async () => {
    const call = httpFetch(baseUrl);
    const body = (await runWithRequestContext(incoming, async () =>
      (await call("/api/auth/verify?x=1")).json(),
    )) as {
      path: string;
      rid: string;
      tp: string;
    };
    expect(body.path).toBe("/api/auth/verify?x=1");
    expect(body.rid).toBe("req-9");
    expect(body.tp).toContain("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("sends no propagation headers outside a request", async () => {
    const call = httpFetch(baseUrl);
    const body = (await (await call("/x")).json()) as { rid?: string };
    expect(body.rid).toBeUndefined();
  });
});
