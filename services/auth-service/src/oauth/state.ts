import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { errors } from "@conhub/utils";
import { z } from "zod";
import { type AuthDeps, addMs } from "../deps.js";
import type { ProviderId } from "./providers.js";
import { oauthDb } from "./schema.js";

/** How long a started authorization may take to come back. */
export const stateTtlMs = 10 * 60_000;

/** What the callback needs from the request that started the flow; kept server-side, sealed. */
export interface PendingAuthorization {
  codeVerifier: string;
  nonce: string | null;
  /** Link to this signed-in user (and connect for this organization) instead of signing in. */
  link: { userId: string; organizationId: string; sessionId: string } | null;
  /** Same-origin relative path to send the browser to afterwards. */
  redirect: string | null;
  /** SHA-256 of the random value in the starting browser's cookie: the callback must come from that browser. */
  browserBinding: string;
}

const Pending = z.object({
  codeVerifier: z.string(),
  nonce: z.string().nullable(),
  link: z.object({ userId: z.string(), organizationId: z.string(), sessionId: z.string() }).nullable(),
  redirect: z.string().nullable(),
  browserBinding: z.string(),
});

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
const stateId = sha256;

/** A fresh browser-binding value (goes in the cookie) and the hash kept with the pending request. */
export function newBrowserBinding(): { cookie: string; hash: string } {
  const cookie = randomBytes(32).toString("base64url");
  return { cookie, hash: sha256(cookie) };
}

/** Whether the cookie the callback arrived with is the one set when the flow started (constant time). */
export function browserBindingMatches(cookie: string | undefined, hash: string): boolean {
  if (!cookie) return false;
  const a = Buffer.from(sha256(cookie), "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function saveState(
  deps: AuthDeps,
  provider: ProviderId,
  state: string,
  pending: PendingAuthorization,
): Promise<void> {
  const now = deps.now();
  const id = stateId(state);
  const db = oauthDb(deps.db);
  await db
    .insertInto("oauth_states")
    .values({
      id,
      provider,
      sealed: deps.box.seal(JSON.stringify(pending), `oauth_state:${id}`),
      created_at: now.toISOString(),
      expires_at: addMs(now, stateTtlMs).toISOString(),
      used_at: null,
    })
    .execute();
  // Expired requests are of no use to anyone: sweep them while here.
  await db
    .deleteFrom("oauth_states")
    .where("expires_at", "<", addMs(now, -stateTtlMs).toISOString())
    .execute();
}

const badState = () =>
  errors.invalid("The sign-in request is unknown, expired or already used; start again.", [
    { field: "query.state", reason: "is unknown, expired or already used" },
  ]);

/**
 * Takes the pending authorization for `state`: once only (a conditional
 * update, so two concurrent callbacks cannot both have it), within 10
 * minutes, for the same provider. Anything else is 400.
 */
export async function consumeState(
  deps: AuthDeps,
  provider: ProviderId,
  state: string | undefined,
): Promise<PendingAuthorization> {
  if (!state || state.length > 512) throw badState();
  const id = stateId(state);
  const now = deps.now().toISOString();
  const db = oauthDb(deps.db);
  const claimed = await db
    .updateTable("oauth_states")
    .set({ used_at: now })
    .where("id", "=", id)
    .where("provider", "=", provider)
    .where("used_at", "is", null)
    .where("expires_at", ">", now)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) throw badState();
  const row = await db
    .selectFrom("oauth_states")
    .select("sealed")
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return Pending.parse(JSON.parse(deps.box.open(row.sealed, `oauth_state:${id}`)));
}

/** `?redirect=` accepts only same-origin relative paths (`/dashboard`), never `//host` or `/\host`. */
export function safeRedirect(value: string | undefined): string | null {
  if (!value) return null;
  if (value.length > 1024 || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) {
    return null;
  }
  if ([...value].some((ch) => ch === "\\" || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    return null;
  const parsed = new URL(value, "http://same-origin.invalid");
  if (parsed.origin !== "http://same-origin.invalid") return null;
  return `${parsed.pathname}${parsed.search}${parsed.hash}`;
}
