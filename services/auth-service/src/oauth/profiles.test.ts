import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitbucketProfile, githubProfile } from "./providers.js";
import { safeRedirect } from "./state.js";

/** Bitbucket's `GET /2.0/user` and `GET /2.0/user/emails` and a GitHub account without a verified email, as documented. */
const server = createServer((req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== "Bearer tok") return send(401, { type: "error" });
  switch (req.url) {
    case "/2.0/user":
      return send(200, {
        type: "user",
        uuid: "{d301aafa-d676-4ee0-88be-962be7417567}",
        account_id: "557058:2a7f4b1e",
        display_name: "Ada Lovelace",
        username: "ada",
      });
    case "/2.0/user/emails":
      return send(200, {
        pagelen: 10,
        page: 1,
        size: 2,
        values: [
          { type: "email", email: "ada@old.example", is_primary: false, is_confirmed: true },
          { type: "email", email: "Ada@Example.com", is_primary: true, is_confirmed: true },
        ],
      });
    case "/gh/user":
      return send(200, { login: "nobody", id: 42, name: null });
    case "/gh/user/emails":
      return send(200, [{ email: "nobody@example.com", verified: false, primary: true, visibility: null }]);
    default:
      return send(404, {});
  }
});
let base: string;
beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("provider profile mapping", () => {
  it("reads Bitbucket's user and its primary confirmed email", async () => {
    expect(await bitbucketProfile(`${base}/2.0`, "tok")).toEqual({
      subject: "{d301aafa-d676-4ee0-88be-962be7417567}",
      email: "ada@example.com",
      emailVerified: true,
      name: "Ada Lovelace",
      username: "ada",
    });
  });

  it("reports a GitHub email GitHub has not verified as unverified", async () => {
    expect(await githubProfile(`${base}/gh`, "tok")).toEqual({
      subject: "42",
      email: "nobody@example.com",
      emailVerified: false,
      name: null,
      username: "nobody",
    });
  });

  it("fails on a refused token", async () => {
    await expect(githubProfile(`${base}/gh`, "wrong")).rejects.toThrow(/401/);
  });
});

describe("safeRedirect", () => {
  it("keeps same-origin relative paths only", () => {
    expect(safeRedirect("/a/b?c=1#d")).toBe("/a/b?c=1#d");
    for (const bad of [
      "//evil.example",
      "/\\evil.example",
      "https://evil.example",
      "evil",
      "/a\nb",
      "/\tx",
    ]) {
      expect(safeRedirect(bad), bad).toBeNull();
    }
  });
});
