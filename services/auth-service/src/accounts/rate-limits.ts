import { errors } from "@conhub/utils";
import { sha256Hex } from "../crypto/hashing.js";
import type { AuthDeps } from "../deps.js";
import type { ClientInfo } from "../http/client-info.js";
import { normalizeEmail } from "./users.js";

/** One limit: at most `limit` hits of `key` per `windowMs`, else 429 with Retry-After. */
async function enforce(deps: AuthDeps, key: string, limit: number, windowMs: number): Promise<void> {
  const decision = await deps.rateLimiter.hit(`auth:${key}`, limit, windowMs);
  if (!decision.allowed) throw errors.rateLimited(Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
}

/** Keys by email hash, so the limiter's store holds no addresses; applies whether or not the account exists. */
function accountKey(email: string): string {
  return sha256Hex(normalizeEmail(email)).slice(0, 32);
}

/** Per-IP and per-account limits on password logins. */
export async function limitLogin(deps: AuthDeps, client: ClientInfo, email: string): Promise<void> {
  const { loginLimitPerIp, loginLimitPerAccount, rateWindowMs } = deps.settings;
  await enforce(deps, `login:ip:${client.ip ?? "unknown"}`, loginLimitPerIp, rateWindowMs);
  await enforce(deps, `login:account:${accountKey(email)}`, loginLimitPerAccount, rateWindowMs);
}

/** Requests that send mail: per IP, and per address (no mail bombing). */
export async function limitMailing(
  deps: AuthDeps,
  client: ClientInfo,
  action: string,
  email: string,
): Promise<void> {
  await enforce(deps, `${action}:ip:${client.ip ?? "unknown"}`, 30, 3_600_000);
  await enforce(deps, `${action}:account:${accountKey(email)}`, 5, 3_600_000);
}
