import { createHmac, timingSafeEqual } from "node:crypto";
import { errors, masterSecretOrDevFile } from "@conhub/utils";
import { createMiddleware } from "hono/factory";
import type { ServiceFetch } from "../service-fetch.js";

/**
 * Service-to-service credentials. A service token is
 * HMAC-SHA256(master secret, "conhub-service-token v1:<caller>:<callee>"),
 * sent as `Authorization: ConHub-Service <caller>:<hex token>`. It binds the
 * caller and the callee, so a token meant for one service is refused by
 * another; the callee accepts only the callers it names. Every process of a
 * deployment derives the same tokens from the same master secret (JWT_SECRET,
 * or in development a random one in `<data dir>/platform/keys/service.secret`).
 */
export const serviceAuthScheme = "ConHub-Service";

export interface ServiceCallerEnv {
  Variables: {
    /** The calling service, after `requireService`. */
    callerService: string;
  };
}

export function serviceToken(masterSecret: string, caller: string, callee: string): string {
  return createHmac("sha256", masterSecret)
    .update(`conhub-service-token v1:${caller}:${callee}`)
    .digest("hex");
}

/** The `Authorization` header value `caller` sends to `callee`. */
export function serviceAuthorization(masterSecret: string, caller: string, callee: string): string {
  return `${serviceAuthScheme} ${caller}:${serviceToken(masterSecret, caller, callee)}`;
}

/**
 * The calling service when `header` holds a valid token of one of `allowed`
 * for `callee`; undefined otherwise. Compared in constant time.
 */
export function verifyServiceAuthorization(
  header: string | undefined,
  masterSecret: string,
  callee: string,
  allowed: readonly string[],
): string | undefined {
  if (!header) return undefined;
  const match = /^ConHub-Service[ ]+([a-z][a-z0-9-]{0,62}):([0-9a-f]{64})\s*$/i.exec(header);
  if (!match) return undefined;
  const caller = match[1]!;
  const given = Buffer.from(match[2]!.toLowerCase(), "hex");
  const expected = Buffer.from(serviceToken(masterSecret, caller, callee), "hex");
  const valid = given.length === expected.length && timingSafeEqual(given, expected);
  return valid && allowed.includes(caller) ? caller : undefined;
}

/** 401 unless the request carries a service token of one of `allowed` for `callee`. */
export function requireService(options: {
  masterSecret: string;
  callee: string;
  allowed: readonly string[];
}) {
  return createMiddleware<ServiceCallerEnv>(async (c, next) => {
    const caller = verifyServiceAuthorization(
      c.req.header("authorization"),
      options.masterSecret,
      options.callee,
      options.allowed,
    );
    if (!caller) throw errors.unauthorized("A service credential is required.");
    c.set("callerService", caller);
    await next();
  });
}

/** A ServiceFetch that authenticates every call as `caller` to `callee`. */
export function withServiceToken(
  fetch: ServiceFetch,
  masterSecret: string,
  caller: string,
  callee: string,
): ServiceFetch {
  const authorization = serviceAuthorization(masterSecret, caller, callee);
  return (path, init) => {
    const headers = new Headers(init?.headers);
    headers.set("authorization", authorization);
    return fetch(path, { ...init, headers });
  };
}

/**
 * The master secret service tokens derive from: JWT_SECRET when set;
 * otherwise a random one kept in `<data dir>/platform/keys/service.secret`
 * (0600, created once with `wx`), which every target of a one-process or
 * same-machine deployment shares through the data dir.
 */
export async function loadServiceMasterSecret(
  jwtSecret: string | undefined,
  dataDir: string,
): Promise<string> {
  return masterSecretOrDevFile(jwtSecret, dataDir, "platform", "service.secret");
}
