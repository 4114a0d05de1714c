/* Test-only: a real OpenID Connect provider (oidc-provider) on port 0, with the login and consent interactions finished in code. */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

export interface TestAccount {
  email: string;
  email_verified: boolean;
  name?: string;
}

export interface OidcTestServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Provider accounts by `sub`. */
  accounts: Map<string, TestAccount>;
  /** The account the next login interaction signs in. */
  loginAs(sub: string): void;
  close(): Promise<void>;
}

export async function startOidcServer(redirectUris: string[]): Promise<OidcTestServer> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;
  const accounts = new Map<string, TestAccount>();
  let nextLogin: string | undefined;
  const clientId = "conhub-test";
  const clientSecret = "a-test-client-secret-that-is-long-enough-0123456789";

  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: "test-rs256", alg: "RS256", use: "sig" };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    ttl: {
      AccessToken: 3600,
      IdToken: 3600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Interaction: 600,
      Session: 86_400,
      AuthorizationCode: 60,
    },
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: redirectUris,
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    scopes: ["openid", "offline_access", "email", "profile"],
    pkce: { required: () => true },
    cookies: { keys: ["oidc-test-cookie-key"] },
    findAccount: async (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    issueRefreshToken: async (
      _ctx: unknown,
      client: { grantTypeAllowed(type: string): boolean },
      code: { scopes: Set<string> },
    ) => client.grantTypeAllowed("refresh_token") && code.scopes.has("offline_access"),
    // Every refresh hands out a new refresh token; presenting a used one revokes the grant.
    rotateRefreshToken: true,
  });
  const handle = provider.callback();

  server.on("request", (req, res) => {
    if (!req.url?.startsWith("/interaction/")) {
      handle(req, res);
      return;
    }
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      let result: Record<string, unknown>;
      if (details.prompt.name === "login") {
        if (!nextLogin) throw new Error("the test did not say which account signs in");
        result = { login: { accountId: nextLogin } };
      } else {
        const accountId = details.session?.accountId ?? "";
        const grant =
          (details.grantId && (await provider.Grant.find(details.grantId))) ||
          new provider.Grant({ accountId, clientId });
        const missing = details.prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
          missingResourceScopes?: Record<string, string[]>;
        };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
          grant.addResourceScope(indicator, scopes.join(" "));
        }
        result = { consent: { grantId: await grant.save() } };
      }
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    loginAs(sub) {
      nextLogin = sub;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** A browser's cookie jar, reduced to what these redirects need (every cookie to the one host). */
export class CookieJar {
  #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a),
      );
      if (expired || value === "") this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/**
 * Follows the provider's redirects (authorize → interaction → resume → …)
 * until one points at `callbackBase`; returns that URL. The caller hands it
 * to the in-process auth app.
 */
export async function followToCallback(authorizeUrl: string, callbackBase: string): Promise<URL> {
  const jar = new CookieJar();
  let location = authorizeUrl;
  for (let hop = 0; hop < 12; hop++) {
    if (location.startsWith(callbackBase)) return new URL(location);
    const res = await fetch(location, { redirect: "manual", headers: { cookie: jar.header() } });
    jar.store(res);
    const next = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !next) {
      throw new Error(`${location} answered ${res.status}: ${await res.text()}`);
    }
    location = new URL(next, location).href;
  }
  throw new Error("too many redirects");
}
