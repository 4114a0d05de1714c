import { isIP } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { targetCatalog, targetNames } from "./targets.js";

/** Documentation attached to every environment variable; the README table and `.env.example` come from it. */
export interface VariableMeta {
  description: string;
  /** Never printed back (config check, doctor, logs). */
  secret?: boolean;
  /** Shown in `.env.example` instead of the default when there is none. */
  example?: string;
  /** How to show a default that depends on the machine (e.g. `~/.conhub`). */
  defaultLabel?: string;
}

export type EnvShape = Record<string, z.ZodType>;

export function variable<T extends z.ZodType>(schema: T, meta: VariableMeta): T {
  return schema.meta({ ...meta }) as T;
}

export function metaOf(schema: z.ZodType): VariableMeta | undefined {
  return z.globalRegistry.get(schema) as VariableMeta | undefined;
}

const port = (def: number) =>
  z.coerce
    .number({ error: "must be a port number" })
    .int("must be a whole number")
    .min(1, "must be between 1 and 65535")
    .max(65535, "must be between 1 and 65535")
    .default(def);

const positiveInt = (def: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .positive("must be positive")
    .default(def);

const httpUrl = (def: string) =>
  z
    .string()
    .trim()
    .default(def)
    .refine((v) => /^https?:\/\/[^/]+/.test(v) && URL.canParse(v), "must be an http:// or https:// URL");

const optionalUrl = (protocols: string[], hint: string) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .refine((v) => {
      if (v === undefined) return true;
      if (!URL.canParse(v)) return false;
      const url = new URL(v);
      return protocols.includes(url.protocol) && url.hostname !== "";
    }, hint);

/** A whole number in [min, max], `def` when unset. */
export const intInRange = (def: number, min: number, max: number) =>
  z.coerce
    .number({ error: "must be a number" })
    .int("must be a whole number")
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(def);

/** A comma-separated list; empty entries dropped. */
export const csv = () =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );

/** Variables every target reads. */
export const coreEnv = {
  NODE_ENV: variable(z.enum(["development", "production", "test"]).default("development"), {
    description:
      "`production` turns on the strict checks (strong secrets, no stand-in adapters without warning).",
  }),
  LOG_LEVEL: variable(
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    {
      description: "Log level of the JSON logs written to stderr.",
    },
  ),
  CONHUB_DATA_DIR: variable(
    z
      .string()
      .trim()
      .min(1)
      .default(join(homedir(), ".conhub"))
      .transform((dir) => (dir === "~" || dir.startsWith("~/") ? join(homedir(), dir.slice(1)) : dir)),
    {
      description: "Where embedded storage lives (SQLite databases, queue, blobs, keys). Must be writable.",
      defaultLabel: "~/.conhub",
    },
  ),
  CONHUB_HOST: variable(z.string().trim().min(1).default("127.0.0.1"), {
    description: "Interface every HTTP listener binds to. `0.0.0.0` in containers.",
  }),
  SHUTDOWN_TIMEOUT_MS: variable(positiveInt(4000), {
    description:
      "How long a stopping process waits for in-flight requests and jobs before it requeues and exits.",
  }),
} satisfies EnvShape;

/** Limits and browser policy of every HTTP service. */
export const httpEnv = {
  HTTP_BODY_LIMIT_BYTES: variable(positiveInt(1_048_576), {
    description: "Largest request body accepted by default (routes such as uploads set their own).",
  }),
  HTTP_REQUEST_TIMEOUT_MS: variable(positiveInt(30_000), {
    description:
      "Longest a request may run before it is answered with 504 (streams such as MCP and SSE excepted).",
  }),
  TRUSTED_PROXIES: variable(
    z
      .string()
      .default("127.0.0.1,::1")
      .transform((v) =>
        v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      )
      .refine(
        (entries) =>
          entries.every((e) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e) && isIP(e.split("/")[0]!) !== 0),
        "must be comma-separated IP addresses or CIDR ranges (e.g. 127.0.0.1,::1,172.16.0.0/12)",
      ),
    {
      description:
        "Peers whose X-Real-IP / X-Forwarded-For are believed (nginx, the gateway); from anyone else the socket address is used. IPs or CIDR ranges.",
      defaultLabel: "127.0.0.1,::1",
    },
  ),
  CORS_ORIGINS: variable(csv(), {
    description: "Comma-separated browser origins allowed to call the APIs. Same-origin calls always work.",
    example: "http://localhost:3000",
  }),
} satisfies EnvShape;

/** External storage; unset means the embedded adapters. */
export const storageEnv = {
  DATABASE_URL: variable(optionalUrl(["postgres:", "postgresql:"], "must be a postgres:// URL"), {
    description:
      "PostgreSQL (15+, with pgvector) for every service, one schema each. Unset: SQLite files in the data dir.",
    secret: true,
    example: "postgres://conhub:conhub@localhost:5432/conhub",
  }),
  DATABASE_POOL_MAX: variable(positiveInt(10), {
    description: "Connections in each service's PostgreSQL pool.",
  }),
  REDIS_URL: variable(optionalUrl(["redis:", "rediss:"], "must be a redis:// or rediss:// URL"), {
    description:
      "Redis 7 for cache, sessions, rate limits, jobs and events. Unset: in-process and SQLite adapters.",
    secret: true,
    example: "redis://localhost:6379",
  }),
  REDIS_KEY_PREFIX: variable(
    z
      .string()
      .trim()
      .max(100, "must be at most 100 characters")
      .regex(/^[A-Za-z0-9:_.-]*$/, "may hold only letters, digits and : _ . -")
      .optional(),
    {
      description:
        "Prefix of every Redis key (queues, cache, rate limits). Unset: `conhub:` followed by the PostgreSQL database's name and `:` (just `conhub:` without DATABASE_URL), so deployments on different databases can share one Redis without seeing each other's jobs, cache or limits.",
      defaultLabel: "conhub:<database>:",
    },
  ),
  QDRANT_URL: variable(optionalUrl(["http:", "https:"], "must be an http:// or https:// URL"), {
    description: "Qdrant for the indexer's vectors (optional; pgvector or the embedded index otherwise).",
    example: "http://localhost:6333",
  }),
} satisfies EnvShape;

export const gatewayEnv = {
  GATEWAY_PORT: variable(port(8000), {
    description:
      "Port of the one-process gateway that serves the seed's route table (nginx owns port 80 when split).",
  }),
} satisfies EnvShape;

/** `<TARGET>_PORT` for every target. */
export const portEnv: EnvShape = Object.fromEntries(
  targetNames.map((name) => {
    const t = targetCatalog[name];
    return [t.portVar, variable(port(t.port), { description: `Port of the ${t.title}.` })];
  }),
);

/** `<TARGET>_URL` for every target: how a process reaches a target it does not run itself. */
export const urlEnv: EnvShape = Object.fromEntries(
  targetNames.map((name) => {
    const t = targetCatalog[name];
    return [
      t.urlVar,
      variable(httpUrl(`http://127.0.0.1:${t.port}`), {
        description: `Base URL of the ${t.title} when it runs in another process.`,
      }),
    ];
  }),
);

/** Everything the platform itself (not one service's features) reads. */
export const platformEnv: EnvShape = {
  ...coreEnv,
  ...httpEnv,
  ...storageEnv,
  ...gatewayEnv,
  ...portEnv,
  ...urlEnv,
};
