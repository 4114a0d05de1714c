/* Test-only: builds the auth service on the reachable real adapters, with a clock the test moves. */
import { parseEnv, platformEnv, targetCatalog } from "@conhub/config";
import { createServiceApp, type ServiceApp } from "@conhub/middleware";
import type { Cache, RateLimiter, RelationalStore } from "@conhub/storage";
import {
  type AdapterFixture,
  closeAfterTest,
  type KeyValueSpec,
  openCacheFromSpec,
  openRateLimiterFromSpec,
  openRelationalFromSpec,
  type RelationalSpec,
  reachableKeyValueAdapters,
  reachableRelationalAdapters,
  tempDir,
} from "@conhub/storage/testing";
import { createLogger } from "@conhub/utils";
import { onTestFinished } from "vitest";
import { type AuthConfig, authConfigShape } from "../config.js";
import { authMigrations } from "../migrations/index.js";
import { type AuthService, createAuthService } from "../service.js";
import { authServiceTarget } from "../target.js";

export interface AdapterSet {
  name: string;
  relational: AdapterFixture<RelationalSpec>;
  keyValue: AdapterFixture<KeyValueSpec>;
}

/** SQLite + memory always; PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set. Call at a file's top level. */
export function reachableAuthAdapters(): AdapterSet[] {
  const relational = reachableRelationalAdapters();
  const keyValue = reachableKeyValueAdapters();
  return relational.map((r, i) => {
    const kv = keyValue[Math.min(i, keyValue.length - 1)]!;
    return { name: `${r.name}+${kv.name}`, relational: r, keyValue: kv };
  });
}

export class TestClock {
  #ms = Date.now();
  readonly now = () => new Date(this.#ms);
  advance(ms: number): void {
    this.#ms += ms;
  }
}

export interface AuthHarness {
  app: ServiceApp;
  service: AuthService;
  clock: TestClock;
  store: RelationalStore;
  cache: Cache;
  rateLimiter: RateLimiter;
  config: AuthConfig;
  /** A request to the app (JSON body if given), as from `ip`. */
  call(method: string, path: string, options?: CallOptions): Promise<Response>;
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  ip?: string;
}

export async function startAuth(set: AdapterSet, env: Record<string, string> = {}): Promise<AuthHarness> {
  const dataDir = await tempDir("conhub-auth-");
  const parsed = parseEnv({ ...platformEnv, ...authConfigShape }, { CONHUB_DATA_DIR: dataDir, ...env });
  if (!parsed.ok) throw new Error(`bad test config: ${JSON.stringify(parsed.problems)}`);
  const config = { ...parsed.config, ports: {}, urls: {} } as unknown as AuthConfig;
  const store = closeAfterTest(await openRelationalFromSpec(await set.relational.backend()));
  await store.migrate(authMigrations);
  const kv = await set.keyValue.backend();
  const cache = closeAfterTest(await openCacheFromSpec(kv));
  const rateLimiter = closeAfterTest(await openRateLimiterFromSpec(kv));
  const logger = createLogger({ level: "silent" });
  const app = createServiceApp({
    name: "auth-service",
    version: "test",
    logger,
    gatewayPrefix: targetCatalog["auth-service"].gatewayPrefix,
    capabilities: authServiceTarget.capabilities,
    readiness: [store.health, cache.health],
    limits: { bodyBytes: config.HTTP_BODY_LIMIT_BYTES, timeoutMs: config.HTTP_REQUEST_TIMEOUT_MS },
    corsOrigins: [],
  });
  const clock = new TestClock();
  const service = await createAuthService({ app, config, store, cache, rateLimiter, logger, now: clock.now });
  onTestFinished(() => service.stop());
  return {
    app,
    service,
    clock,
    store,
    cache,
    rateLimiter,
    config,
    call(method, path, options = {}) {
      const headers: Record<string, string> = {
        "x-real-ip": options.ip ?? "198.51.100.7",
        ...options.headers,
      };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.body !== undefined) {
        headers["content-type"] ??= "application/json";
        body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      }
      return Promise.resolve(app.request(path, { method, headers, body }));
    },
  };
}

/** The newest mail to `to` in the outbox (after background work settles). */
export async function latestMail(
  h: AuthHarness,
  to: string,
  purpose?: string,
): Promise<{ subject: string; body: string | null; status: string; error: string | null }> {
  await h.service.idle();
  let query = h.service.deps.db.selectFrom("mail_outbox").selectAll().where("recipient", "=", to);
  if (purpose) query = query.where("purpose", "=", purpose);
  const row = await query.orderBy("created_at", "desc").executeTakeFirst();
  if (!row) throw new Error(`no mail to ${to}${purpose ? ` (${purpose})` : ""} in the outbox`);
  return row;
}

/** The single-use token a mail carries. */
export function tokenIn(body: string | null): string {
  const match = /"token":"([^"]+)"/.exec(body ?? "");
  if (!match) throw new Error("the mail carries no token");
  return match[1]!;
}

export const strongPassword = "correct horse battery staple";

export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string; emailVerified: boolean };
  organization: { id: string; role: string; name: string };
  cookie: string | null;
}

/** Registers (if needed) and signs in; returns the tokens. */
export async function signUp(h: AuthHarness, email: string, password = strongPassword): Promise<SignedIn> {
  const reg = await h.call("POST", "/api/auth/register", { body: { email, password } });
  if (reg.status !== 202) throw new Error(`register answered ${reg.status}: ${await reg.text()}`);
  return signIn(h, email, password);
}

export async function signIn(h: AuthHarness, email: string, password = strongPassword): Promise<SignedIn> {
  const res = await h.call("POST", "/api/auth/login", { body: { email, password } });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  return { ...((await res.json()) as Omit<SignedIn, "cookie">), cookie: res.headers.get("set-cookie") };
}
