import { z } from "zod";
import { variable } from "./env.js";
import type { ConfigProblem } from "./parse.js";

/** Production master secrets are at least this long (`openssl rand -hex 32` gives 64). */
export const minimumSecretLength = 32;

/**
 * JWT_SECRET, the platform's master secret, declared once for every target
 * that reads it (the auth, data and webhook services).
 */
export const masterSecretEnv = {
  JWT_SECRET: variable(z.string().optional(), {
    description: `The master secret (generate with \`openssl rand -hex 32\`). Secrets at rest are sealed with keys derived from it (the auth service's signing key on PostgreSQL and provider tokens, the data service's source credentials and webhook secrets, outbound webhook signing secrets), and services derive the tokens they call each other with from it (\`Authorization: ConHub-Service\`). Every process must use the same one. Required, at least ${minimumSecretLength} characters, when NODE_ENV=production, and whenever DATABASE_URL is set; unset in development, random ones are kept under \`<data dir>/*/keys/\`.`,
    secret: true,
    example: "<openssl rand -hex 32>",
  }),
};

/**
 * The checks every target that reads JWT_SECRET makes. The messages are the
 * same for every target, so a process running several reports each once.
 */
export function masterSecretProblems(config: {
  JWT_SECRET?: string | undefined;
  NODE_ENV?: string | undefined;
  DATABASE_URL?: string | undefined;
}): ConfigProblem[] {
  const secret = config.JWT_SECRET;
  if (!secret) {
    if (config.NODE_ENV === "production") {
      return [
        {
          variable: "JWT_SECRET",
          message: "is required in production (generate one with: openssl rand -hex 32)",
        },
      ];
    }
    if (config.DATABASE_URL) {
      // Keys, tokens and secrets then live in PostgreSQL, shared by every process:
      // a per-data-dir random secret would lock the others out.
      return [
        {
          variable: "JWT_SECRET",
          message:
            "is required when DATABASE_URL is set: secrets stored in PostgreSQL are sealed with it and services prove themselves to each other with tokens derived from it, so every process must use the same one (generate one with: openssl rand -hex 32)",
        },
      ];
    }
    return [];
  }
  if (config.NODE_ENV === "production" && secret.length < minimumSecretLength) {
    return [
      {
        variable: "JWT_SECRET",
        message: `is ${secret.length} characters; production needs at least ${minimumSecretLength} (openssl rand -hex 32)`,
      },
    ];
  }
  return [];
}
