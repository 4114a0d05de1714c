import { randomBytes } from "node:crypto";
import { apiKeyScopes, jsonBody, type Scope, scopesForRole } from "@conhub/middleware";
import { AppError, errors } from "@conhub/utils";
import type { Context } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { checkPasswordLogin } from "../accounts/login.js";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { clientInfo } from "../http/client-info.js";
import { smallBody } from "../http/limits.js";
import { refreshCookie } from "../sessions/cookie.js";
import {
  type ClientRow,
  type CsrfBinding,
  createCode,
  csrfMatches,
  csrfToken,
  db,
  defaultScopes,
  exchangeCode,
  findClient,
  OAuthError,
  type OAuthServerSettings,
  parseScopes,
  redirectUriProblem,
  redirectUrisOf,
  refreshGrant,
  scopeDescriptions,
  signedInUser,
  signTicket,
  verifyTicket,
} from "./grants.js";
import { errorPage, organizationPage, pageHeaders, signInPage } from "./html.js";

export const authorizePath = "/oauth/authorize";
export const tokenPath = "/oauth/token";
export const registerPath = "/oauth/register";
export const metadataPath = "/.well-known/oauth-authorization-server";
const csrfCookie = "conhub_oauth_csrf";

/** RFC 8414 metadata: endpoints under `<issuer>/api/auth`, public clients with PKCE S256. */
export function authorizationServerMetadata(settings: OAuthServerSettings, prefix: string) {
  const base = `${settings.issuer}${prefix}`;
  return {
    issuer: settings.issuer,
    authorization_endpoint: `${base}${authorizePath}`,
    token_endpoint: `${base}${tokenPath}`,
    registration_endpoint: `${base}${registerPath}`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    scopes_supported: [...apiKeyScopes],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: ["authorization_code", "refresh_token"],
    token_endpoint_auth_methods_supported: ["none"],
    code_challenge_methods_supported: ["S256"],
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${settings.issuer}/mcp/config?client=claude`,
  };
}

/** The metadata document (mounted at the root and under `/api/auth`). */
export function authorizationServerMetadataRoute(
  settings: OAuthServerSettings,
  prefix: string,
): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  app.get(metadataPath, (c) =>
    c.json(authorizationServerMetadata(settings, prefix), 200, {
      // Public metadata: browser-based clients must be able to read it.
      "access-control-allow-origin": "*",
      "cache-control": "public, max-age=3600",
    }),
  );
  return app;
}

const RegisterBody = z.object({
  redirect_uris: z
    .array(
      z.string().superRefine((v, ctx) => {
        const problem = redirectUriProblem(v);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
      "must be a list of redirect URIs",
    )
    .min(1, "must name at least one redirect URI")
    .max(10, "at most 10 redirect URIs"),
  client_name: z.string().trim().min(1, "must not be empty").max(100, "is too long").optional(),
  grant_types: z
    .array(z.enum(["authorization_code", "refresh_token"], "must be authorization_code or refresh_token"))
    .min(1, "must name at least one grant type")
    .refine((g) => g.includes("authorization_code"), "must include authorization_code")
    .default(["authorization_code", "refresh_token"]),
  response_types: z
    .array(z.literal("code", "only code is supported"))
    .min(1, "must name at least one response type")
    .optional(),
  token_endpoint_auth_method: z
    .literal("none", "only none is supported (public clients with PKCE)")
    .optional(),
  scope: z
    .string()
    .max(200, "is too long")
    .refine((s) => parseScopes(s).unknown.length === 0, `may only name ${apiKeyScopes.join(", ")}`)
    .optional(),
});

function tokenError(c: Context, err: OAuthError) {
  const headers: Record<string, string> = { "cache-control": "no-store", pragma: "no-cache" };
  if (err.status === 401) headers["www-authenticate"] = 'Basic realm="conhub"';
  return c.json({ error: err.code, error_description: err.description }, err.status as 400 | 401, headers);
}

/** The parameters of an authorization request, as they arrive (query on GET, form on POST). */
type RequestParams = Record<string, string | undefined>;

interface AuthorizationRequest {
  client: ClientRow;
  redirectUri: string;
  codeChallenge: string;
  state: string | undefined;
  requested: Scope[];
  resource: string;
}

type Validation =
  | { kind: "ok"; request: AuthorizationRequest }
  | { kind: "page"; message: string }
  | { kind: "redirect"; redirectUri: string; state: string | undefined; error: string; description: string };

/**
 * RFC 6749 §4.1.2.1: problems with the client or its redirect URI are shown
 * to the user (never redirected: the URI is not trusted); everything else goes
 * back to the client as `error=` on its redirect URI.
 */
async function validateRequest(
  deps: AuthDeps,
  settings: OAuthServerSettings,
  p: RequestParams,
): Promise<Validation> {
  const client = await findClient(deps, p.client_id);
  if (!client) return { kind: "page", message: "The application (client_id) is not registered here." };
  const registered = redirectUrisOf(client);
  const redirectUri = p.redirect_uri ?? (registered.length === 1 ? registered[0] : undefined);
  if (!redirectUri || !registered.includes(redirectUri)) {
    return {
      kind: "page",
      message: "The redirect_uri is missing or is not one the application registered (exact match required).",
    };
  }
  const state = p.state;
  if (state !== undefined && state.length > 1024) {
    return { kind: "page", message: "The state parameter is too long (at most 1024 characters)." };
  }
  const fail = (error: string, description: string): Validation => ({
    kind: "redirect",
    redirectUri,
    state,
    error,
    description,
  });
  if (p.response_type !== "code") return fail("unsupported_response_type", "response_type must be code.");
  if (!p.code_challenge || !/^[A-Za-z0-9\-._~]{43,128}$/.test(p.code_challenge)) {
    return fail("invalid_request", "code_challenge (PKCE, S256) is required.");
  }
  if (p.code_challenge_method !== "S256") {
    return fail("invalid_request", "code_challenge_method must be S256.");
  }
  const scope = parseScopes(p.scope);
  if (scope.unknown.length > 0) {
    return fail(
      "invalid_scope",
      `Unknown scope ${scope.unknown.join(", ")}; supported: ${apiKeyScopes.join(", ")}.`,
    );
  }
  const requested = p.scope === undefined || scope.scopes.length === 0 ? defaultScopes : scope.scopes;
  const resource = p.resource ?? settings.resource;
  if (resource !== settings.resource) {
    return fail("invalid_target", `resource must be ${settings.resource}.`);
  }
  return {
    kind: "ok",
    request: { client, redirectUri, codeChallenge: p.code_challenge, state, requested, resource },
  };
}

function redirectWith(c: Context, redirectUri: string, params: Record<string, string | undefined>) {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(name, value);
  return c.body(null, 303, {
    location: url.href,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
  });
}

function isHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

/**
 * The authorization server for OAuth-capable MCP clients: dynamic
 * registration, the authorization endpoint (a small server-rendered sign-in
 * and consent page) and the token endpoint. Mounted under `/api/auth`.
 */
export function oauthServerRoutes(
  deps: AuthDeps,
  settings: OAuthServerSettings,
  prefix: string,
): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  const action = `${prefix}${authorizePath}`;

  app.post(registerPath, smallBody, async (c, next) => {
    const ip = clientInfo(c).ip ?? "unknown";
    const decision = await deps.rateLimiter.hit(`auth:oauth-register:ip:${ip}`, 30, 3_600_000);
    if (!decision.allowed) throw errors.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
    await next();
  });
  app.post(registerPath, jsonBody(RegisterBody), async (c) => {
    const body = c.req.valid("json");
    const now = deps.now();
    const id = `mcp_${randomBytes(16).toString("hex")}`;
    const redirectUris = [...new Set(body.redirect_uris)];
    await db(deps)
      .insertInto("oauth_clients")
      .values({
        id,
        client_name: body.client_name ?? null,
        redirect_uris: JSON.stringify(redirectUris),
        grant_types: JSON.stringify(body.grant_types),
        scope: body.scope ?? null,
        created_ip: clientInfo(c).ip,
        created_at: now.toISOString(),
      })
      .execute();
    await deps.audit.record({
      type: "oauth.client_registered",
      client: clientInfo(c),
      data: { clientId: id, clientName: body.client_name ?? null },
    });
    return c.json(
      {
        client_id: id,
        client_id_issued_at: Math.floor(now.getTime() / 1000),
        client_name: body.client_name,
        redirect_uris: redirectUris,
        grant_types: body.grant_types,
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        ...(body.scope ? { scope: body.scope } : {}),
      },
      201,
      { "cache-control": "no-store" },
    );
  });

  const binding = (request: AuthorizationRequest, nonce: string): CsrfBinding => ({
    nonce,
    clientId: request.client.id,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    state: request.state ?? "",
    resource: request.resource,
    scope: request.requested.join(" "),
  });

  const hiddenOf = (request: AuthorizationRequest, csrf: string) => ({
    client_id: request.client.id,
    redirect_uri: request.redirectUri,
    response_type: "code",
    code_challenge: request.codeChallenge,
    code_challenge_method: "S256",
    state: request.state,
    scope: request.requested.join(" "),
    resource: request.resource,
    csrf,
  });

  const clientLabel = (request: AuthorizationRequest) => request.client.client_name ?? "An MCP client";

  const renderSignIn = (
    c: Context,
    request: AuthorizationRequest,
    csrf: string,
    status: 200 | 401 | 422 | 429,
    extra: { error?: string; email?: string; approved?: Scope[]; signedInAs?: string } = {},
  ) => {
    const redirect = new URL(request.redirectUri);
    const html = signInPage({
      action,
      clientName: clientLabel(request),
      redirectHost: redirect.host,
      hidden: hiddenOf(request, csrf),
      scopes: request.requested.map((scope) => ({
        scope,
        description: scopeDescriptions[scope],
        // Least privilege by default: writing and admin must be ticked by the user.
        checked: extra.approved ? extra.approved.includes(scope) : defaultScopes.includes(scope),
      })),
      ...(extra.error ? { error: extra.error } : {}),
      ...(extra.email ? { email: extra.email } : {}),
      ...(extra.signedInAs ? { signedInAs: extra.signedInAs } : {}),
    });
    return c.body(html, status, pageHeaders(redirect.origin));
  };

  const handleInvalid = (c: Context, v: Exclude<Validation, { kind: "ok" }>) => {
    if (v.kind === "page") return c.body(errorPage(v.message), 400, pageHeaders());
    return redirectWith(c, v.redirectUri, {
      error: v.error,
      error_description: v.description,
      state: v.state,
      iss: settings.issuer,
    });
  };

  app.get(authorizePath, async (c) => {
    const v = await validateRequest(deps, settings, c.req.query());
    if (v.kind !== "ok") return handleInvalid(c, v);
    const nonce = randomBytes(32).toString("base64url");
    setCookie(c, csrfCookie, nonce, {
      httpOnly: true,
      secure: isHttps(c),
      sameSite: "Strict",
      path: action,
      maxAge: 600,
    });
    const user = await signedInUser(deps, refreshCookie(c));
    return renderSignIn(
      c,
      v.request,
      csrfToken(settings, binding(v.request, nonce)),
      200,
      user ? { signedInAs: user.email } : {},
    );
  });

  app.post(authorizePath, smallBody, async (c) => {
    const type = c.req.header("content-type") ?? "";
    if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return c.body(
        errorPage("The form must be sent as application/x-www-form-urlencoded."),
        415,
        pageHeaders(),
      );
    }
    const form = new URLSearchParams(await c.req.text());
    const p: RequestParams = {};
    for (const name of [
      "client_id",
      "redirect_uri",
      "response_type",
      "code_challenge",
      "code_challenge_method",
      "state",
      "scope",
      "resource",
    ]) {
      const value = form.get(name);
      if (value !== null) p[name] = value;
    }
    const v = await validateRequest(deps, settings, p);
    if (v.kind !== "ok") return handleInvalid(c, v);
    const request = v.request;
    const nonce = getCookie(c, csrfCookie);
    const csrf = form.get("csrf") ?? "";
    if (!nonce || !csrf || !csrfMatches(settings, binding(request, nonce), csrf)) {
      return c.body(
        errorPage(
          "This form has expired or was not sent from the sign-in page (CSRF check failed). Start the connection again from the application.",
        ),
        403,
        pageHeaders(),
      );
    }
    const back = (params: Record<string, string | undefined>) => {
      deleteCookie(c, csrfCookie, { path: action, secure: isHttps(c), httpOnly: true, sameSite: "Strict" });
      return redirectWith(c, request.redirectUri, { ...params, state: request.state, iss: settings.issuer });
    };
    if (form.get("decision") !== "approve") {
      return back({ error: "access_denied", error_description: "The user denied the request." });
    }
    const approved = request.requested.filter((s) => form.getAll("approve_scope").includes(s));
    const approvedText = approved.join(" ");
    const info = clientInfo(c);

    let userId: string;
    const ticket = form.get("ticket");
    if (ticket !== null) {
      const fromTicket = verifyTicket(settings, ticket, approvedText, csrf, deps.now());
      if (!fromTicket) {
        return c.body(
          errorPage("The sign-in step has expired. Start the connection again."),
          403,
          pageHeaders(),
        );
      }
      userId = fromTicket;
    } else if (form.get("session") === "1") {
      // "Signed in as …": the session cookie must still be valid now.
      const user = await signedInUser(deps, refreshCookie(c));
      if (!user) {
        return renderSignIn(c, request, csrf, 401, {
          error: "Your ConHub session has ended; sign in with your email and password.",
          approved,
        });
      }
      if (approved.length === 0) {
        return renderSignIn(c, request, csrf, 422, {
          error: "Allow at least one permission, or deny.",
          signedInAs: user.email,
        });
      }
      userId = user.id;
    } else {
      const email = (form.get("email") ?? "").trim();
      const password = form.get("password") ?? "";
      if (!email || !password || email.length > 254 || password.length > 1024) {
        return renderSignIn(c, request, csrf, 422, {
          error: "Enter your email and password.",
          email,
          approved,
        });
      }
      if (approved.length === 0) {
        return renderSignIn(c, request, csrf, 422, {
          error: "Allow at least one permission, or deny.",
          email,
        });
      }
      try {
        userId = (await checkPasswordLogin(deps, email, password, info)).id;
      } catch (err) {
        if (err instanceof AppError && (err.kind === "unauthorized" || err.kind === "rate_limited")) {
          const status = err.kind === "unauthorized" ? 401 : 429;
          const response = renderSignIn(c, request, csrf, status, { error: err.message, email, approved });
          if (err.retryAfterSeconds !== undefined) {
            response.headers.set("retry-after", String(err.retryAfterSeconds));
          }
          return response;
        }
        throw err;
      }
    }

    const memberships = await db(deps)
      .selectFrom("memberships as m")
      .innerJoin("organizations as o", "o.id", "m.organization_id")
      .select(["o.id", "o.name", "o.personal", "m.role"])
      .where("m.user_id", "=", userId)
      .orderBy("o.personal", "desc")
      .orderBy("m.created_at", "asc")
      .execute();
    const chosen = form.get("organization");
    if (memberships.length > 1 && chosen === null) {
      const html = organizationPage({
        action,
        clientName: clientLabel(request),
        hidden: {
          ...hiddenOf(request, csrf),
          ticket: signTicket(settings, userId, approvedText, csrf, deps.now()),
        },
        approved,
        organizations: memberships.map((m) => ({ id: m.id, name: m.name, role: m.role })),
      });
      return c.body(html, 200, pageHeaders(new URL(request.redirectUri).origin));
    }
    const membership = chosen === null ? memberships[0] : memberships.find((m) => m.id === chosen);
    if (!membership) {
      return c.body(errorPage("You are not a member of that organization."), 403, pageHeaders());
    }
    const scopes = approved.filter((s) => scopesForRole(membership.role).includes(s));
    if (scopes.length === 0) {
      return back({
        error: "invalid_scope",
        error_description: "None of the approved scopes is allowed for your role in this organization.",
      });
    }
    const code = await createCode(deps, {
      clientId: request.client.id,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      resource: request.resource,
      userId,
      organizationId: membership.id,
      scopes,
    });
    await deps.audit.record({
      type: "oauth.authorized",
      userId,
      organizationId: membership.id,
      client: info,
      data: { clientId: request.client.id, scopes },
    });
    return back({ code });
  });

  app.post(tokenPath, smallBody, async (c) => {
    try {
      const type = c.req.header("content-type") ?? "";
      if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
        throw new OAuthError("invalid_request", "Send the request as application/x-www-form-urlencoded.");
      }
      const form = new URLSearchParams(await c.req.text());
      const one = (name: string): string | undefined => {
        const all = form.getAll(name);
        if (all.length > 1) throw new OAuthError("invalid_request", `${name} is given more than once.`);
        return all[0];
      };
      const required = (name: string): string => {
        const value = one(name);
        if (!value) throw new OAuthError("invalid_request", `${name} is required.`);
        return value;
      };
      if (c.req.header("authorization")) {
        throw new OAuthError(
          "invalid_client",
          "Clients here are public: send client_id in the body and no Authorization header.",
          401,
        );
      }
      const grantType = required("grant_type");
      const client = await findClient(deps, required("client_id"));
      if (!client) throw new OAuthError("invalid_client", "The client is not registered here.", 401);
      const grantTypes = JSON.parse(client.grant_types) as string[];
      if (!grantTypes.includes(grantType)) {
        throw new OAuthError("unauthorized_client", `This client did not register the ${grantType} grant.`);
      }
      const resource = one("resource");
      const info = clientInfo(c);
      let answer: Awaited<ReturnType<typeof exchangeCode>>;
      if (grantType === "authorization_code") {
        answer = await exchangeCode(
          deps,
          client,
          {
            code: required("code"),
            codeVerifier: required("code_verifier"),
            redirectUri: required("redirect_uri"),
            ...(resource !== undefined ? { resource } : {}),
          },
          info,
        );
      } else if (grantType === "refresh_token") {
        const scope = one("scope");
        answer = await refreshGrant(
          deps,
          client,
          {
            refreshToken: required("refresh_token"),
            ...(scope !== undefined ? { scope } : {}),
            ...(resource !== undefined ? { resource } : {}),
          },
          info,
        );
      } else {
        throw new OAuthError(
          "unsupported_grant_type",
          "grant_type must be authorization_code or refresh_token.",
        );
      }
      return c.json(answer, 200, { "cache-control": "no-store", pragma: "no-cache" });
    } catch (err) {
      if (err instanceof OAuthError) return tokenError(c, err);
      throw err;
    }
  });

  return app;
}
