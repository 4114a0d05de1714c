import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import {
  isPublicAddress,
  PrivateAddressError,
  parseNetworkPolicy,
  publicOnly,
  resolveChecked,
} from "./addresses.js";
import { safeFetch } from "./safe-fetch.js";

describe("network policy", () => {
  it("counts only global unicast as public, including IPv6 forms that embed a private IPv4 address", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"]) expect(isPublicAddress(a), a).toBe(true);
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "::1",
      "fe80::1",
      "fc00::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "2002:7f00:1::1",
      "64:ff9b::a00:1",
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });

  it("parses the admin's setting: false, true, or CIDR ranges; anything else is an error naming the part", () => {
    expect(parseNetworkPolicy("false")).toBe(publicOnly);
    const all = parseNetworkPolicy("true");
    expect(typeof all !== "string" && all.allowsPrivate("10.0.0.1")).toBe(true);
    const some = parseNetworkPolicy("10.0.0.0/8, 127.0.0.1");
    if (typeof some === "string") throw new Error(some);
    expect(some.allowsPrivate("10.20.30.40")).toBe(true);
    expect(some.allowsPrivate("127.0.0.1")).toBe(true);
    expect(some.allowsPrivate("127.0.0.2")).toBe(false);
    expect(some.allowsPrivate("::ffff:10.0.0.1")).toBe(true);
    expect(parseNetworkPolicy("10.0.0.0/8,nonsense")).toMatch(/"nonsense" is not one/);
  });

  it("checks every address a name resolves to", async () => {
    await expect(resolveChecked("localhost", publicOnly)).rejects.toBeInstanceOf(PrivateAddressError);
    await expect(resolveChecked("[::1]", publicOnly)).rejects.toThrow(/loopback address/);
    const allowed = parseNetworkPolicy("127.0.0.0/8,::1/128");
    if (typeof allowed === "string") throw new Error(allowed);
    expect(await resolveChecked("127.0.0.1", allowed)).toEqual(["127.0.0.1"]);
  });

  it("follows redirects only to allowed addresses, checking each hop", async () => {
    const server = createServer((req, res) => {
      if (req.url === "/start") res.writeHead(302, { location: "/next" }).end();
      else if (req.url === "/next") res.writeHead(200, { "content-type": "text/plain" }).end("arrived");
      else if (req.url === "/metadata")
        res.writeHead(302, { location: "http://169.254.169.254/latest/" }).end();
      else if (req.url === "/loop") res.writeHead(302, { location: "/loop" }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const policy = parseNetworkPolicy("127.0.0.1/32");
    if (typeof policy === "string") throw new Error(policy);
    try {
      const ok = await safeFetch(`${base}/start`, { policy });
      expect(ok).toMatchObject({
        status: 200,
        url: `${base}/next`,
        chain: [`${base}/start`, `${base}/next`],
      });
      expect(ok.body.toString()).toBe("arrived");
      await expect(safeFetch(`${base}/metadata`, { policy })).rejects.toThrow(
        /169\.254\.169\.254, a linkLocal address/,
      );
      await expect(safeFetch(`${base}/start`, { policy: publicOnly })).rejects.toThrow(
        /127\.0\.0\.1, a loopback address/,
      );
      await expect(safeFetch(`${base}/loop`, { policy })).rejects.toThrow(/redirects more than 5 times/);
    } finally {
      server.close();
    }
  });
});
