import { join } from "node:path";
import type { OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { auth, UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { freshDatabase, portEnv, tempDir } from "../support/processes.js";
import { type Caller, callTool, indexDocuments, signUp } from "./mcp-support.js";

/**
 * An OAuth-capable MCP client signing in to ConHub, driven by the SDK's own
 * client auth code: 401 with WWW-Authenticate → protected-resource metadata →
 * authorization-server metadata at the root → dynamic registration → the
 * sign-in page (filled in with fetch, as a browser would) → code + PKCE →
 * tokens → Streamable HTTP with the token. Auth service, indexer and MCP
 * service in one process behind the one-process gateway, whose origin is
 * AUTH_PUBLIC_URL (the issuer, and `<origin>/mcp` the resource).
 */

const password = "correct horse battery staple";
const redirectUrl = "http://127.0.0.1:45123/oauth/callback";

/** The test's OAuthClientProvider: storage in memory; "the browser" is fetch filling in the form. */
class FormSigningProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = "";
  code: string | undefined;
  readonly redirectUrl = redirectUrl;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: "OAuth test agent",
    redirect_uris: [redirectUrl],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };

  constructor(
    private readonly email: string,
    private readonly approve: string[] = ["search:read", "sources:read"],
  ) {}

  state() {
    return "state-42";
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }

  /** Opens the authorization URL, signs in on the page and follows the redirect back, keeping the code. */
  async redirectToAuthorization(url: URL): Promise<void> {
    const page = await fetch(url, { redirect: "manual" });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await page.text();
    const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
    const form = new URLSearchParams();
    for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.append(match[1]!, unescapeHtml(match[2]!));
    }
    form.set("email", this.email);
    form.set("password", password);
    form.set("decision", "approve");
    for (const scope of this.approve) form.append("approve_scope", scope);
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)![1]!, url);
    const posted = await fetch(action, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: form,
    });
    expect(posted.status).toBe(303);
    const back = new URL(posted.headers.get("location")!);
    expect(`${back.origin}${back.pathname}`).toBe(redirectUrl);
    expect(back.searchParams.get("state")).toBe("state-42");
    this.code = back.searchParams.get("code") ?? undefined;
  }
}

function unescapeHtml(value: string): string {
  return value
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

/** Connects the SDK client the way an agent does: 401 → sign-in → finishAuth → connect again. */
async function connectWithOAuth(mcpUrl: string, provider: FormSigningProvider): Promise<Client> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: "oauth-test", version: "1.0.0" });
  await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError);
  expect(provider.code).toBeDefined();
  await first.finishAuth(provider.code!);
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const connected = new Client({ name: "oauth-test", version: "1.0.0" });
  await connected.connect(transport);
  onTestFinished(() => connected.close());
  return connected;
}

describe("MCP clients signing in with OAuth", () => {
  let platform: Platform;
  let gateway: string;
  let mcpUrl: string;
  let directMcpUrl: string;
  let alice: Caller;
  let aliceEmail: string;
  let bobEmail: string;
  let dropDatabase = async (): Promise<void> => undefined;

  beforeAll(async () => {
    const { env, ports } = await portEnv();
    const base = tempDir("conhub-mcp-oauth-");
    // PostgreSQL and Redis when the environment has them (a database of its own), else SQLite and memory.
    const storage: Record<string, string> = {};
    if (process.env.DATABASE_URL) {
      const database = await freshDatabase(process.env.DATABASE_URL);
      storage.DATABASE_URL = database.url;
      storage.JWT_SECRET = "mcp-oauth-test-secret-0123456789abcdef0123";
      dropDatabase = () => database.drop();
    }
    if (process.env.REDIS_URL) {
      // A Redis database of its own, so login rate limits do not add up with other suites'.
      const url = new URL(process.env.REDIS_URL);
      url.pathname = "/5";
      storage.REDIS_URL = url.toString();
    }
    gateway = `http://127.0.0.1:${ports.gateway}`;
    platform = await startPlatform({
      targets: ["auth-service", "indexer", "mcp-service"],
      gateway: true,
      env: {
        ...env,
        ...storage,
        CONHUB_DATA_DIR: join(base, "data"),
        LOG_LEVEL: "error",
        CONHUB_EMBEDDINGS: "none",
        AUTH_PUBLIC_URL: gateway,
      },
    });
    mcpUrl = `${gateway}/mcp`;
    directMcpUrl = `http://127.0.0.1:${platform.ports["mcp-service"]}/mcp`;
    aliceEmail = `alice-${Date.now()}@example.com`;
    bobEmail = `bob-${Date.now()}@example.com`;
    alice = await signUp(gateway, aliceEmail);
    const bob = await signUp(gateway, bobEmail);
    const indexer = `http://127.0.0.1:${platform.ports.indexer}`;
    await indexDocuments(indexer, alice.key, { sourceId: "alice-notes" }, [
      { path: "deploy.md", content: "# Deploys\n\nWe deploy the pelican service every Tuesday.\n" },
    ]);
    await indexDocuments(indexer, bob.key, { sourceId: "bob-secrets" }, [
      { path: "vault.md", content: "# Vault\n\nThe pelican vault code is marmalade.\n" },
    ]);
  }, 240_000);

  afterAll(async () => {
    await platform?.stop();
    await dropDatabase();
  });

  it("the root well-known documents reach the right services through the gateway", async () => {
    const ready = (await (await fetch(`${gateway}/api/auth/ready`)).json()) as {
      checks: Array<{ name: string }>;
    };
    const checks = ready.checks.map((c) => c.name);
    if (process.env.DATABASE_URL) expect(checks).toContain("postgresql");
    if (process.env.REDIS_URL) expect(checks).toContain("redis");
    const as = await fetch(`${gateway}/.well-known/oauth-authorization-server`);
    expect(as.status).toBe(200);
    expect(await as.json()).toMatchObject({ issuer: gateway, code_challenge_methods_supported: ["S256"] });
    for (const path of [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
    ]) {
      const prm = await fetch(`${gateway}${path}`);
      expect(prm.status).toBe(200);
      expect(await prm.json()).toMatchObject({ resource: mcpUrl, authorization_servers: [gateway] });
    }
  });

  it("signs in through the SDK's client, lists tools and searches only its own organization", async () => {
    const provider = new FormSigningProvider(aliceEmail);
    const client = await connectWithOAuth(mcpUrl, provider);
    expect(provider.client?.client_id).toMatch(/^mcp_/);
    expect(provider.saved?.scope).toBe("search:read sources:read");

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("search");
    // Delegated tokens never carry admin: no filesystem tools.
    expect(tools.some((t) => t.name.startsWith("fs_"))).toBe(false);

    const found = await callTool(client, "search", { query: "pelican", mode: "keyword" });
    expect(found.isError).toBe(false);
    const paths = (found.data.results as Array<{ path: string; uri: string }>).map((r) => r.uri);
    expect(paths).toContain("conhub://alice-notes/deploy.md");
    expect(paths.some((p) => p.includes("bob-secrets"))).toBe(false);
    expect(found.text).not.toContain("marmalade");

    const sources = await callTool(client, "list_sources");
    expect(JSON.stringify(sources.data)).toContain("alice-notes");
    expect(JSON.stringify(sources.data)).not.toContain("bob-secrets");
  });

  it("another organization's token sees only its own data", async () => {
    const provider = new FormSigningProvider(bobEmail, ["search:read"]);
    const client = await connectWithOAuth(mcpUrl, provider);
    expect(provider.saved?.scope).toBe("search:read");
    const found = await callTool(client, "search", { query: "pelican", mode: "keyword" });
    const uris = (found.data.results as Array<{ uri: string }>).map((r) => r.uri);
    expect(uris).toEqual(["conhub://bob-secrets/vault.md"]);
  });

  it("the token is bound to the resource and is not a general API token; the SDK refreshes it", async () => {
    const provider = new FormSigningProvider(aliceEmail);
    await connectWithOAuth(mcpUrl, provider);
    const tokens = provider.saved!;
    const rpc = (url: string, token: string) =>
      fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
    // The same token, presented to the MCP service under another origin (another resource URL): refused.
    const direct = await rpc(directMcpUrl, tokens.access_token);
    expect(direct.status).toBe(401);
    expect(direct.headers.get("www-authenticate")).toContain('error="invalid_token"');
    // The auth service's own routes refuse it.
    const me = await fetch(`${gateway}/api/auth/me`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(me.status).toBe(401);
    // The SDK refreshes it (rotating refresh token) and the new one works.
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe("AUTHORIZED");
    expect(provider.saved!.refresh_token).not.toBe(tokens.refresh_token);
    expect((await rpc(mcpUrl, provider.saved!.access_token)).status).toBe(200);
    // The old refresh token again: reuse, the grant is revoked (the newest refresh token dies too).
    const reuse = await fetch(`${gateway}/api/auth/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: provider.client!.client_id,
        refresh_token: tokens.refresh_token!,
      }),
    });
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: "invalid_grant" });
    const newest = await fetch(`${gateway}/api/auth/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: provider.client!.client_id,
        refresh_token: provider.saved!.refresh_token!,
      }),
    });
    expect(newest.status).toBe(400);
  });
});
