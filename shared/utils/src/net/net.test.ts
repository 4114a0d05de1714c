import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import {
  addressRange,
  OutboundNetworkError,
  PrivateAddressError,
  parseNetworkPolicy,
  publicOnly,
  resolveChecked,
  safeFetch,
} from "./index.js";

describe("shared network policy", () => {
  it("names the special-purpose range of an address (IPv4, IPv6, IPv4-mapped, with a zone)", () => {
    const expected: Record<string, string> = {
      "8.8.8.8": "unicast",
      "2606:4700:4700::1111": "unicast",
      "127.0.0.1": "loopback",
      "10.0.0.1": "private",
      "172.31.255.255": "private",
      "172.32.0.1": "unicast",
      "192.168.0.1": "private",
      "169.254.169.254": "linkLocal",
      "100.64.0.1": "carrierGradeNat",
      "0.0.0.0": "unspecified",
      "255.255.255.255": "broadcast",
      "224.0.0.1": "multicast",
      "203.0.113.9": "reserved",
      "::": "unspecified",
      "::1": "loopback",
      "fe80::1": "linkLocal",
      "fe80::1%eth0": "linkLocal",
      "fd00::1": "uniqueLocal",
      "ff02::1": "multicast",
      "::ffff:127.0.0.1": "loopback",
      "::ffff:a9fe:a9fe": "linkLocal",
      "::ffff:8.8.8.8": "unicast",
      "64:ff9b::a00:1": "rfc6052",
      "2002:7f00:1::1": "6to4",
      "2001::1": "teredo",
      "2001:db8::1": "reserved",
    };
    for (const [address, range] of Object.entries(expected))
      expect(addressRange(address), address).toBe(range);
    expect(() => addressRange("not-an-ip")).toThrow(TypeError);
  });

  it("allows exactly the configured ranges, IPv6 ones too", () => {
    const policy = parseNetworkPolicy("fd00::/8, 192.168.1.0/24");
    if (typeof policy === "string") throw new Error(policy);
    expect(policy.allowsPrivate("fd12::3")).toBe(true);
    expect(policy.allowsPrivate("fc00::1")).toBe(false);
    expect(policy.allowsPrivate("192.168.1.77")).toBe(true);
    expect(policy.allowsPrivate("192.168.2.1")).toBe(false);
    expect(policy.description).toBe("public addresses and fd00::/8, 192.168.1.0/24");
    for (const bad of ["10.0.0.0/33", "::/129", "10.0.0.0/8/1", "10.0.0.0/x"])
      expect(parseNetworkPolicy(bad), bad).toMatch(/is not one/);
  });

  it("refuses a name that resolves to a loopback address, with the address in the message", async () => {
    const err = await resolveChecked("localhost", publicOnly).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PrivateAddressError);
    expect((err as PrivateAddressError).message).toMatch(
      /^localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
    );
    await expect(resolveChecked("no-such-host.invalid", publicOnly)).rejects.toBeInstanceOf(
      OutboundNetworkError,
    );
  });

  it("sends a POST with a body and can leave a redirect unfollowed", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.url === "/moved") res.writeHead(307, { location: "/elsewhere" }).end();
        else res.writeHead(200).end("x".repeat(5000));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const policy = parseNetworkPolicy("127.0.0.1");
    if (typeof policy === "string") throw new Error(policy);
    try {
      const ok = await safeFetch(`${base}/hook`, { method: "POST", body: '{"a":1}', policy, maxBytes: 100 });
      expect(ok.status).toBe(200);
      expect(ok.truncated).toBe(true);
      expect(ok.body.length).toBe(100);
      const moved = await safeFetch(`${base}/moved`, {
        method: "POST",
        body: "b",
        policy,
        followRedirects: false,
      });
      expect(moved.status).toBe(307);
      expect(moved.chain).toEqual([`${base}/moved`]);
      expect(seen).toEqual([`POST /hook {"a":1}`, "POST /moved b"]);
    } finally {
      server.close();
    }
  });
});
