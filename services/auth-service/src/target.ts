import { variable } from "@conhub/config";
import { createTargetApp, defineTarget } from "@conhub/middleware";
import { z } from "zod";

/** Shortest JWT_SECRET accepted in production: 32 bytes of hex from `openssl rand -hex 32` is 64 characters. */
export const minimumSecretLength = 32;

/**
 * The auth-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with issue #3.
 */
export const authServiceTarget = defineTarget({
  name: "auth-service",
  configShape: {
    JWT_SECRET: variable(z.string().optional(), {
      description: `The auth service's master secret (seed: generate with \`openssl rand -hex 32\`). Required, at least ${minimumSecretLength} characters, when NODE_ENV=production.`,
      secret: true,
      example: "<openssl rand -hex 32>",
    }),
  },
  validateConfig(config) {
    if (config.NODE_ENV !== "production") return [];
    if (!config.JWT_SECRET) {
      return [
        {
          variable: "JWT_SECRET",
          message: "is required in production (generate one with: openssl rand -hex 32)",
        },
      ];
    }
    if (config.JWT_SECRET.length < minimumSecretLength) {
      return [
        {
          variable: "JWT_SECRET",
          message: `is ${config.JWT_SECRET.length} characters; production needs at least ${minimumSecretLength} (openssl rand -hex 32)`,
        },
      ];
    }
    return [];
  },
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics on its own storage. Accounts, sessions, JWT, OAuth, organizations and API keys are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: [
      "register, login, refresh, logout, me",
      "email verification and password reset",
      "OAuth login (GitHub, Google, GitLab, Microsoft, Bitbucket, OIDC)",
      "organizations and roles",
      "API keys",
      "JWKS and /api/auth/verify",
    ],
    issue: 3,
  },
  uses: ["relational", "cache", "rateLimiter"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
