import * as oidc from "openid-client";
import type { AuthConfig } from "../config.js";

export const providerIds = ["oidc", "github", "google", "gitlab", "microsoft", "bitbucket"] as const;
export type ProviderId = (typeof providerIds)[number];

export function isProviderId(value: string): value is ProviderId {
  return (providerIds as readonly string[]).includes(value);
}

/** Who the provider says the user is. */
export interface ProviderProfile {
  /** The provider's stable account id. */
  subject: string;
  email: string | null;
  /** True only when the provider asserts it verified the address. */
  emailVerified: boolean;
  name: string | null;
  username: string | null;
}

export interface ProviderTokens {
  accessToken: string;
  refreshToken: string | null;
  /** Seconds the access token lives, if the provider says. */
  expiresIn: number | null;
  scopes: string[];
}

/** One sign-in provider: how to configure openid-client for it and how to read the user. */
export interface Provider {
  id: ProviderId;
  name: string;
  /** OpenID Connect: an ID token is expected and a nonce is sent. */
  oidc: boolean;
  scopes: string[];
  /** Extra authorization request parameters. */
  authorizationParams: Record<string, string>;
  configuration(): Promise<oidc.Configuration>;
  /** The profile after the code exchange (ID token claims and/or the provider's user API). */
  profile(
    config: oidc.Configuration,
    tokens: oidc.TokenEndpointResponse & { claims(): oidc.IDToken | undefined },
  ): Promise<ProviderProfile>;
}

const insecure = (url: string) => new URL(url).protocol === "http:";
const timeoutMs = 10_000;

/** Caches the discovered configuration; a failed discovery is retried on the next use. */
function lazy(make: () => Promise<oidc.Configuration>): () => Promise<oidc.Configuration> {
  let pending: Promise<oidc.Configuration> | undefined;
  return () => {
    pending ??= make().catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

function discovered(issuer: string, clientId: string, clientSecret: string) {
  return lazy(() =>
    oidc.discovery(new URL(issuer), clientId, clientSecret, undefined, {
      execute: insecure(issuer) ? [oidc.allowInsecureRequests] : [],
      timeout: timeoutMs / 1000,
    }),
  );
}

function manual(
  server: { issuer: string; authorization_endpoint: string; token_endpoint: string },
  clientId: string,
  clientSecret: string,
  auth: oidc.ClientAuth,
  options: { errorsWith200?: boolean } = {},
) {
  return lazy(async () => {
    const config = new oidc.Configuration(server, clientId, clientSecret, auth);
    if (insecure(server.token_endpoint)) oidc.allowInsecureRequests(config);
    if (options.errorsWith200) config[oidc.customFetch] = errorsAs400;
    config.timeout = timeoutMs / 1000;
    return config;
  });
}

/**
 * GitHub answers a failed token request with 200 and `{"error": …}`; turn
 * that into the 400 the OAuth spec prescribes, so it reads as the error it is.
 */
const errorsAs400: oidc.CustomFetch = async (url, options) => {
  const res = await fetch(url, options as RequestInit);
  if (!res.ok || !res.headers.get("content-type")?.includes("json")) return res;
  const body = (await res.clone().json()) as { error?: unknown; access_token?: unknown };
  if (typeof body.error !== "string" || body.access_token !== undefined) return res;
  return new Response(JSON.stringify(body), { status: 400, headers: { "content-type": "application/json" } });
};

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/** ID token claims merged with the UserInfo endpoint's answer (which is checked to be about the same `sub`). */
async function oidcProfile(
  config: oidc.Configuration,
  tokens: oidc.TokenEndpointResponse & { claims(): oidc.IDToken | undefined },
): Promise<ProviderProfile> {
  const claims = tokens.claims();
  if (!claims) throw new Error("the provider returned no ID token");
  let info: Record<string, unknown> = {};
  if (config.serverMetadata().userinfo_endpoint) {
    info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  }
  const merged = { ...claims, ...info } as Record<string, unknown>;
  return {
    subject: claims.sub,
    email: text(merged.email)?.toLowerCase() ?? null,
    emailVerified: merged.email_verified === true || merged.email_verified === "true",
    name: text(merged.name),
    username: text(merged.preferred_username) ?? text(merged.nickname),
  };
}

async function getJson(
  url: string,
  accessToken: string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${accessToken}`, accept: "application/json", ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${new URL(url).pathname} answered ${res.status}`);
  return res.json();
}

/** GitHub: `GET /user` and `GET /user/emails` (REST API, documented JSON shapes). */
export async function githubProfile(apiUrl: string, accessToken: string): Promise<ProviderProfile> {
  const headers = { accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" };
  const user = (await getJson(`${apiUrl}/user`, accessToken, headers)) as {
    id?: number | string;
    login?: string;
    name?: string | null;
  };
  if (user.id === undefined || user.id === null) throw new Error("GitHub returned a user without an id");
  const emails = (await getJson(`${apiUrl}/user/emails`, accessToken, headers)) as Array<{
    email?: string;
    primary?: boolean;
    verified?: boolean;
  }>;
  const list = Array.isArray(emails) ? emails : [];
  const chosen =
    list.find((e) => e.primary && e.verified) ?? list.find((e) => e.verified) ?? list.find((e) => e.primary);
  return {
    subject: String(user.id),
    email: text(chosen?.email)?.toLowerCase() ?? null,
    emailVerified: chosen?.verified === true,
    name: text(user.name),
    username: text(user.login),
  };
}

/** Bitbucket: `GET /2.0/user` and `GET /2.0/user/emails` (paginated `values`). */
export async function bitbucketProfile(apiUrl: string, accessToken: string): Promise<ProviderProfile> {
  const user = (await getJson(`${apiUrl}/user`, accessToken)) as {
    uuid?: string;
    account_id?: string;
    display_name?: string;
    username?: string;
    nickname?: string;
  };
  const subject = text(user.uuid) ?? text(user.account_id);
  if (!subject) throw new Error("Bitbucket returned a user without a uuid");
  const emails = (await getJson(`${apiUrl}/user/emails`, accessToken)) as {
    values?: Array<{ email?: string; is_primary?: boolean; is_confirmed?: boolean }>;
  };
  const list = emails.values ?? [];
  const chosen =
    list.find((e) => e.is_primary && e.is_confirmed) ??
    list.find((e) => e.is_confirmed) ??
    list.find((e) => e.is_primary);
  return {
    subject,
    email: text(chosen?.email)?.toLowerCase() ?? null,
    emailVerified: chosen?.is_confirmed === true,
    name: text(user.display_name),
    username: text(user.username) ?? text(user.nickname),
  };
}

/**
 * Microsoft Graph `GET /v1.0/me`. Entra does not assert that `mail` was
 * verified (the "nOAuth" problem), so it never counts as verified: a
 * Microsoft sign-in never takes over an existing account by email.
 */
export async function microsoftProfile(accessToken: string): Promise<ProviderProfile> {
  const me = (await getJson("https://graph.microsoft.com/v1.0/me", accessToken)) as {
    id?: string;
    displayName?: string;
    mail?: string | null;
    userPrincipalName?: string;
  };
  if (!me.id) throw new Error("Microsoft Graph returned a user without an id");
  return {
    subject: me.id,
    email: text(me.mail)?.toLowerCase() ?? null,
    emailVerified: false,
    name: text(me.displayName),
    username: text(me.userPrincipalName),
  };
}

/** The providers whose client id and secret are configured. */
export function configuredProviders(config: AuthConfig): Map<ProviderId, Provider> {
  const base = (url: string) => url.replace(/\/+$/, "");
  const providers = new Map<ProviderId, Provider>();
  const add = (p: Provider) => providers.set(p.id, p);

  if (config.OAUTH_OIDC_ISSUER && config.OAUTH_OIDC_CLIENT_ID && config.OAUTH_OIDC_CLIENT_SECRET) {
    const configuration = discovered(
      config.OAUTH_OIDC_ISSUER,
      config.OAUTH_OIDC_CLIENT_ID,
      config.OAUTH_OIDC_CLIENT_SECRET,
    );
    add({
      id: "oidc",
      name: config.OAUTH_OIDC_NAME,
      oidc: true,
      scopes: ["openid", "email", "profile"],
      authorizationParams: {},
      configuration,
      profile: oidcProfile,
    });
  }
  if (config.GITHUB_CLIENT_ID && config.GITHUB_CLIENT_SECRET) {
    const web = base(config.GITHUB_BASE_URL);
    const apiUrl = base(config.GITHUB_API_URL);
    add({
      id: "github",
      name: "GitHub",
      oidc: false,
      scopes: ["read:user", "user:email"],
      authorizationParams: {},
      configuration: manual(
        {
          issuer: web,
          authorization_endpoint: `${web}/login/oauth/authorize`,
          token_endpoint: `${web}/login/oauth/access_token`,
        },
        config.GITHUB_CLIENT_ID,
        config.GITHUB_CLIENT_SECRET,
        oidc.ClientSecretPost(config.GITHUB_CLIENT_SECRET),
        { errorsWith200: true },
      ),
      profile: (_config, tokens) => githubProfile(apiUrl, tokens.access_token),
    });
  }
  if (config.GOOGLE_CLIENT_ID && config.GOOGLE_CLIENT_SECRET) {
    add({
      id: "google",
      name: "Google",
      oidc: true,
      scopes: ["openid", "email", "profile"],
      // Google issues a refresh token for access_type=offline (not the offline_access scope).
      authorizationParams: { access_type: "offline", prompt: "consent" },
      configuration: discovered(
        "https://accounts.google.com",
        config.GOOGLE_CLIENT_ID,
        config.GOOGLE_CLIENT_SECRET,
      ),
      profile: oidcProfile,
    });
  }
  if (config.GITLAB_CLIENT_ID && config.GITLAB_CLIENT_SECRET) {
    add({
      id: "gitlab",
      name: "GitLab",
      oidc: true,
      scopes: ["openid", "email", "profile", "read_user"],
      authorizationParams: {},
      configuration: discovered(
        base(config.GITLAB_URL),
        config.GITLAB_CLIENT_ID,
        config.GITLAB_CLIENT_SECRET,
      ),
      profile: oidcProfile,
    });
  }
  if (config.MICROSOFT_CLIENT_ID && config.MICROSOFT_CLIENT_SECRET) {
    const endpoints = `https://login.microsoftonline.com/${encodeURIComponent(config.MICROSOFT_TENANT)}/oauth2/v2.0`;
    add({
      id: "microsoft",
      name: "Microsoft",
      // Multi-tenant ID tokens carry the user's tenant as issuer; the profile comes from Graph instead.
      oidc: false,
      scopes: ["User.Read", "offline_access"],
      authorizationParams: {},
      configuration: manual(
        {
          issuer: `https://login.microsoftonline.com/${config.MICROSOFT_TENANT}/v2.0`,
          authorization_endpoint: `${endpoints}/authorize`,
          token_endpoint: `${endpoints}/token`,
        },
        config.MICROSOFT_CLIENT_ID,
        config.MICROSOFT_CLIENT_SECRET,
        oidc.ClientSecretPost(config.MICROSOFT_CLIENT_SECRET),
      ),
      profile: (_config, tokens) => microsoftProfile(tokens.access_token),
    });
  }
  if (config.BITBUCKET_CLIENT_ID && config.BITBUCKET_CLIENT_SECRET) {
    const web = base(config.BITBUCKET_BASE_URL);
    const apiUrl = base(config.BITBUCKET_API_URL);
    add({
      id: "bitbucket",
      name: "Bitbucket",
      oidc: false,
      scopes: ["account", "email"],
      authorizationParams: {},
      configuration: manual(
        {
          issuer: web,
          authorization_endpoint: `${web}/site/oauth2/authorize`,
          token_endpoint: `${web}/site/oauth2/access_token`,
        },
        config.BITBUCKET_CLIENT_ID,
        config.BITBUCKET_CLIENT_SECRET,
        oidc.ClientSecretBasic(config.BITBUCKET_CLIENT_SECRET),
      ),
      profile: (_config, tokens) => bitbucketProfile(apiUrl, tokens.access_token),
    });
  }
  return providers;
}

/** Scopes asked for: the provider's, plus `offline_access` where an OIDC provider supports it (a refresh token). */
export async function requestedScopes(provider: Provider, config: oidc.Configuration): Promise<string[]> {
  const supported = config.serverMetadata().scopes_supported;
  if (provider.id === "oidc" || provider.id === "gitlab") {
    if (supported?.includes("offline_access")) return [...provider.scopes, "offline_access"];
  }
  return provider.scopes;
}
