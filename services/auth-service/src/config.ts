import { csv, masterSecretEnv, variable } from "@conhub/config";
import type { PlatformConfig } from "@conhub/middleware";
import { z } from "zod";

/** Shortest JWT_SECRET accepted in production: 32 bytes of hex from `openssl rand -hex 32` is 64 characters. */
export { minimumSecretLength } from "@conhub/config";

const positiveInt = (def: number, max: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .positive("must be positive")
    .max(max, `must be at most ${max}`)
    .default(def);

const httpUrl = (v: string) => /^https?:\/\/[^/]+/.test(v) && URL.canParse(v);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined);
const optionalUrl = optionalText.refine(
  (v) => v === undefined || httpUrl(v),
  "must be an http:// or https:// URL",
);
/** Base URLs (trailing slashes are dropped where they are used). */
const urlWithDefault = (def: string) =>
  z.string().trim().default(def).refine(httpUrl, "must be an http:// or https:// URL");

/** The auth service's own environment variables. */
export const authConfigShape = {
  ...masterSecretEnv,
  AUTH_SIGNING_KEY: variable(z.string().optional(), {
    description:
      "Ed25519 private key (PKCS#8 PEM, `openssl genpkey -algorithm ed25519`; `\\n` for newlines) that signs access tokens. Unset: generated on first start and kept in `<data dir>/auth/keys/` (SQLite) or, sealed with JWT_SECRET, in the database (PostgreSQL, shared by replicas).",
    secret: true,
  }),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: variable(positiveInt(900, 86_400), {
    description:
      "Lifetime of an access token (JWT). Other services accept it until it expires, even after logout.",
  }),
  AUTH_REFRESH_TOKEN_TTL_DAYS: variable(positiveInt(30, 365), {
    description: "A session ends when its refresh token is not used for this many days.",
  }),
  AUTH_LOCKOUT_THRESHOLD: variable(positiveInt(10, 1000), {
    description: "Consecutive failed logins after which an account is locked.",
  }),
  AUTH_LOCKOUT_MINUTES: variable(positiveInt(15, 1440), {
    description: "How long a locked account stays locked.",
  }),
  AUTH_LOGIN_LIMIT_PER_IP: variable(positiveInt(100, 100_000), {
    description:
      "Login attempts per client IP per 15 minutes (answered 429 beyond). The IP is X-Real-IP as set by the gateway (nginx).",
  }),
  AUTH_LOGIN_LIMIT_PER_ACCOUNT: variable(positiveInt(20, 100_000), {
    description: "Login attempts per email address per 15 minutes, whether or not the account exists.",
  }),
  AUTH_PUBLIC_URL: variable(
    z
      .string()
      .trim()
      .default("http://localhost:8000")
      .refine((v) => /^https?:\/\/[^/]+/.test(v) && URL.canParse(v), "must be an http:// or https:// URL"),
    {
      description:
        "Public base URL of ConHub (the gateway), for links in mails; also the OAuth issuer for MCP clients, whose tokens are for `<AUTH_PUBLIC_URL>/mcp` (set it to the address clients use).",
    },
  ),
  SMTP_URL: variable(
    z
      .string()
      .trim()
      .optional()
      .refine((v) => v === undefined || /^smtps?:\/\/[^/]+/.test(v), "must be an smtp:// or smtps:// URL"),
    {
      description:
        "Where mail is sent (`smtp://user:pass@host:587`, `smtps://…:465`). Unset: mails stay in the outbox, readable by a platform admin at GET /api/auth/admin/outbox.",
      secret: true,
    },
  ),
  MAIL_FROM: variable(z.string().trim().min(3).default("ConHub <no-reply@localhost>"), {
    description: "Sender of ConHub's mails.",
  }),
  OAUTH_OIDC_ISSUER: variable(optionalUrl, {
    description:
      "Issuer URL of a generic OpenID Connect provider for sign-in (discovered at `<issuer>/.well-known/openid-configuration`). Enabled with OAUTH_OIDC_CLIENT_ID and OAUTH_OIDC_CLIENT_SECRET.",
    example: "https://id.example.com",
  }),
  OAUTH_OIDC_CLIENT_ID: variable(optionalText, { description: "Client id at the generic OIDC provider." }),
  OAUTH_OIDC_CLIENT_SECRET: variable(optionalText, {
    description: "Client secret at the generic OIDC provider.",
    secret: true,
  }),
  OAUTH_OIDC_NAME: variable(z.string().trim().min(1).max(60).default("Single sign-on"), {
    description: "Name shown for the generic OIDC provider.",
  }),
  GITHUB_CLIENT_ID: variable(optionalText, {
    description:
      "GitHub OAuth app client id (sign-in and connections; callback `<AUTH_PUBLIC_URL>/api/auth/oauth/github/callback`).",
  }),
  GITHUB_CLIENT_SECRET: variable(optionalText, {
    description: "GitHub OAuth app client secret.",
    secret: true,
  }),
  GITHUB_BASE_URL: variable(urlWithDefault("https://github.com"), {
    description: "GitHub web base URL (GitHub Enterprise: your server).",
  }),
  GITHUB_API_URL: variable(urlWithDefault("https://api.github.com"), {
    description: "GitHub REST API base URL (GitHub Enterprise: `https://<host>/api/v3`).",
  }),
  GOOGLE_CLIENT_ID: variable(optionalText, {
    description:
      "Google OAuth client id (OIDC; callback `<AUTH_PUBLIC_URL>/api/auth/oauth/google/callback`).",
  }),
  GOOGLE_CLIENT_SECRET: variable(optionalText, { description: "Google OAuth client secret.", secret: true }),
  GITLAB_CLIENT_ID: variable(optionalText, {
    description: "GitLab application id (OIDC; callback `<AUTH_PUBLIC_URL>/api/auth/oauth/gitlab/callback`).",
  }),
  GITLAB_CLIENT_SECRET: variable(optionalText, { description: "GitLab application secret.", secret: true }),
  GITLAB_URL: variable(urlWithDefault("https://gitlab.com"), {
    description: "GitLab base URL (self-managed: your server); also its OIDC issuer.",
  }),
  MICROSOFT_CLIENT_ID: variable(optionalText, {
    description:
      "Microsoft Entra application (client) id (callback `<AUTH_PUBLIC_URL>/api/auth/oauth/microsoft/callback`).",
  }),
  MICROSOFT_CLIENT_SECRET: variable(optionalText, {
    description: "Microsoft Entra client secret.",
    secret: true,
  }),
  MICROSOFT_TENANT: variable(z.string().trim().min(1).default("common"), {
    description: "Microsoft Entra tenant: `common`, `organizations`, `consumers` or a tenant id.",
  }),
  BITBUCKET_CLIENT_ID: variable(optionalText, {
    description:
      "Bitbucket OAuth consumer key (callback `<AUTH_PUBLIC_URL>/api/auth/oauth/bitbucket/callback`).",
  }),
  BITBUCKET_CLIENT_SECRET: variable(optionalText, {
    description: "Bitbucket OAuth consumer secret.",
    secret: true,
  }),
  BITBUCKET_BASE_URL: variable(urlWithDefault("https://bitbucket.org"), {
    description: "Bitbucket web base URL (authorize and token endpoints).",
  }),
  BITBUCKET_API_URL: variable(urlWithDefault("https://api.bitbucket.org/2.0"), {
    description: "Bitbucket REST API base URL.",
  }),
  CONHUB_ADMIN_EMAILS: variable(csv(), {
    description:
      "Comma-separated emails of platform admins (may read the mail outbox). With SMTP_URL set, an admin's email must be verified.",
    example: "you@example.com",
  }),
};

export type AuthConfig = PlatformConfig & z.output<z.ZodObject<typeof authConfigShape>>;

/** What the service's code reads, in units it uses. */
export interface AuthSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlMs: number;
  lockoutThreshold: number;
  lockoutMs: number;
  loginLimitPerIp: number;
  loginLimitPerAccount: number;
  /** Window of the login rate limits. */
  rateWindowMs: number;
  publicUrl: string;
  adminEmails: string[];
  smtpConfigured: boolean;
  verifyEmailTtlMs: number;
  resetPasswordTtlMs: number;
  invitationTtlMs: number;
}

export function settingsFrom(config: AuthConfig): AuthSettings {
  return {
    accessTokenTtlSeconds: config.AUTH_ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlMs: config.AUTH_REFRESH_TOKEN_TTL_DAYS * 86_400_000,
    lockoutThreshold: config.AUTH_LOCKOUT_THRESHOLD,
    lockoutMs: config.AUTH_LOCKOUT_MINUTES * 60_000,
    loginLimitPerIp: config.AUTH_LOGIN_LIMIT_PER_IP,
    loginLimitPerAccount: config.AUTH_LOGIN_LIMIT_PER_ACCOUNT,
    rateWindowMs: 15 * 60_000,
    publicUrl: config.AUTH_PUBLIC_URL.replace(/\/+$/, ""),
    adminEmails: config.CONHUB_ADMIN_EMAILS.map((e) => e.toLowerCase()),
    smtpConfigured: config.SMTP_URL !== undefined,
    verifyEmailTtlMs: 48 * 3_600_000,
    resetPasswordTtlMs: 3_600_000,
    invitationTtlMs: 7 * 86_400_000,
  };
}
