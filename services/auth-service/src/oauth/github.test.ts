import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reachableAuthAdapters, startAuth } from "../testing/harness.js";
import { oauthDb } from "./schema.js";

/**
 * A tiny GitHub: `POST /login/oauth/access_token` (form body, JSON answer when
 * asked with Accept: application/json, PKCE checked), `GET /user` and
 * `GET /user/emails`, with the JSON shapes GitHub documents.
 */
const issuedCode = "gh-code-123";
const issuedToken = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
let challenge: string | undefined;
const server = createServer((req, res) => {
  void handle(req)
    .then(({ status, body }) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(body));
    })
    .catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
});

async function readBody(req: IncomingMessage): Promise<string> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
  const url = new URL(req.url ?? "/", "http://github.local");
  if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
    const form = new URLSearchParams(await readBody(req));
    const verifier = form.get("code_verifier") ?? "";
    const ok =
      form.get("client_id") === "gh-client" &&
      form.get("client_secret") === "gh-secret" &&
      form.get("code") === issuedCode &&
      createHash("sha256").update(verifier).digest("base64url") === challenge;
    if (!ok) {
      return {
        status: 200, // GitHub answers errors with 200 and an error body
        body: {
          error: "bad_verification_code",
          error_description: "The code passed is incorrect or expired.",
        },
      };
    }
    return {
      status: 200,
      body: { access_token: issuedToken, scope: "read:user,user:email", token_type: "bearer" },
    };
  }
  if (req.headers.authorization !== `Bearer ${issuedToken}`) {
    return {
      status: 401,
      body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" },
    };
  }
  if (url.pathname === "/user") {
    return {
      status: 200,
      body: {
        login: "octocat",
        id: 583231,
        node_id: "MDQ6VXNlcjE=",
        name: "The Octocat",
        email: null,
        type: "User",
      },
    };
  }
  if (url.pathname === "/user/emails") {
    return {
      status: 200,
      body: [
        { email: "old@octocat.example", verified: false, primary: false, visibility: null },
        { email: "Octocat@GitHub.example", verified: true, primary: true, visibility: "public" },
      ],
    };
  }
  return { status: 404, body: { message: "Not Found" } };
}

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

describe.each(reachableAuthAdapters())("GitHub sign-in against a local GitHub ($name)", (set) => {
  it("exchanges the code with PKCE and maps /user and /user/emails", async () => {
    const h = await startAuth(set, {
      AUTH_PUBLIC_URL: "http://conhub.test",
      GITHUB_CLIENT_ID: "gh-client",
      GITHUB_CLIENT_SECRET: "gh-secret",
      GITHUB_BASE_URL: base,
      GITHUB_API_URL: base,
    });
    const providers = (await (await h.call("GET", "/api/auth/oauth/providers")).json()) as {
      providers: Array<{ id: string }>;
    };
    expect(providers.providers.map((p) => p.id)).toEqual(["github"]);

    const start = await h.call("GET", "/api/auth/oauth/github");
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get("location")!);
    const headers = {
      cookie: `conhub_oauth=${/conhub_oauth=([^;]+)/.exec(start.headers.get("set-cookie") ?? "")?.[1]}`,
    };
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${base}/login/oauth/authorize`);
    expect(authorize.searchParams.get("client_id")).toBe("gh-client");
    expect(authorize.searchParams.get("scope")).toBe("read:user user:email");
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("nonce")).toBeNull();
    challenge = authorize.searchParams.get("code_challenge") ?? undefined;
    const state = authorize.searchParams.get("state")!;

    // A wrong code: GitHub's 200-with-error answer is a failed exchange, not a sign-in.
    const again = await h.call("GET", "/api/auth/oauth/github");
    const startAgain = new URL(again.headers.get("location")!);
    const againHeaders = {
      cookie: `conhub_oauth=${/conhub_oauth=([^;]+)/.exec(again.headers.get("set-cookie") ?? "")?.[1]}`,
    };
    challenge = startAgain.searchParams.get("code_challenge") ?? undefined;
    const bad = await h.call(
      "GET",
      `/api/auth/oauth/github/callback?code=wrong&state=${encodeURIComponent(startAgain.searchParams.get("state")!)}`,
      { headers: againHeaders },
    );
    expect(bad.status, await bad.clone().text()).toBe(400);

    challenge = authorize.searchParams.get("code_challenge") ?? undefined;
    const res = await h.call(
      "GET",
      `/api/auth/oauth/github/callback?code=${issuedCode}&state=${encodeURIComponent(state)}`,
      { headers },
    );
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as {
      user: { email: string; emailVerified: boolean; name: string };
      oauth: { outcome: string; connectionId: string };
    };
    expect(body.user).toMatchObject({
      email: "octocat@github.example",
      emailVerified: true,
      name: "The Octocat",
    });
    expect(body.oauth.outcome).toBe("created");
    const identity = await oauthDb(h.service.deps.db)
      .selectFrom("oauth_identities")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(identity).toMatchObject({
      provider: "github",
      subject: "583231",
      username: "octocat",
      email_verified: 1,
    });
    const connection = await oauthDb(h.service.deps.db)
      .selectFrom("oauth_connections")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(JSON.parse(connection.scopes)).toEqual(["read:user", "user:email"]);
    expect(connection.expires_at).toBeNull();
    expect(connection.refresh_token_sealed).toBeNull();
    expect(connection.access_token_sealed).not.toContain(issuedToken);
  });
});
