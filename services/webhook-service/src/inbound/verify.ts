import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** The outcome of checking a delivery's signature; `reason` is safe to log and show to admins. */
export type Verification = { ok: true } | { ok: false; reason: string };

/** The request headers a verifier reads (a Fetch `Headers`). */
export interface HeaderReader {
  get(name: string): string | null;
}

export function hmacSha256Hex(secret: string, body: Uint8Array): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/**
 * Constant-time equality of two strings of any length: both are hashed first,
 * so neither the content nor the length of the expected value leaks through
 * timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a, "utf8").digest();
  const hb = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

function hexHmacHeader(
  headers: HeaderReader,
  name: string,
  prefix: string,
  body: Uint8Array,
  secret: string,
): Verification {
  const value = headers.get(name)?.trim();
  if (!value) return { ok: false, reason: `missing ${name} header` };
  if (prefix && !value.toLowerCase().startsWith(prefix)) {
    return { ok: false, reason: `${name} is not of the form ${prefix}<hex>` };
  }
  const given = value.slice(prefix.length).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(given)) return { ok: false, reason: `${name} is not a SHA-256 hex digest` };
  return constantTimeEqual(given, hmacSha256Hex(secret, body))
    ? { ok: true }
    : { ok: false, reason: `${name} does not match the body signed with the source's webhook secret` };
}

function sharedTokenHeader(headers: HeaderReader, name: string, secret: string): Verification {
  const value = headers.get(name);
  if (value === null || value === "") return { ok: false, reason: `missing ${name} header` };
  return constantTimeEqual(value, secret)
    ? { ok: true }
    : { ok: false, reason: `${name} is not the source's webhook secret` };
}

/** GitHub: `X-Hub-Signature-256: sha256=<HMAC-SHA256 hex of the raw body>`. */
export function verifyGithub(headers: HeaderReader, body: Uint8Array, secret: string): Verification {
  return hexHmacHeader(headers, "x-hub-signature-256", "sha256=", body, secret);
}

/** GitLab: `X-Gitlab-Token` carries the secret token itself. */
export function verifyGitlab(headers: HeaderReader, _body: Uint8Array, secret: string): Verification {
  return sharedTokenHeader(headers, "x-gitlab-token", secret);
}

/** Bitbucket Cloud: `X-Hub-Signature: sha256=<HMAC-SHA256 hex of the raw body>`. */
export function verifyBitbucket(headers: HeaderReader, body: Uint8Array, secret: string): Verification {
  return hexHmacHeader(headers, "x-hub-signature", "sha256=", body, secret);
}

/** Dropbox: `X-Dropbox-Signature: <HMAC-SHA256 hex of the raw body>` keyed with the app secret. */
export function verifyDropbox(headers: HeaderReader, body: Uint8Array, secret: string): Verification {
  return hexHmacHeader(headers, "x-dropbox-signature", "", body, secret);
}

/** Google Drive push notifications: `X-Goog-Channel-Token` is the token set when the channel was opened. */
export function verifyGdrive(headers: HeaderReader, _body: Uint8Array, secret: string): Verification {
  return sharedTokenHeader(headers, "x-goog-channel-token", secret);
}
