import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

/**
 * Encrypts secrets at rest (ADR 0005): AES-256-GCM under a key derived from a
 * master secret with HKDF-SHA256. A sealed value names its key id, so keys
 * can be rotated: `seal` uses the newest key, `open` any key still listed.
 * Each service derives its own keys (its `domain`), so a value sealed by one
 * service cannot be opened by another even when they share the master secret.
 *
 * Format: `v1.<kid>.<iv b64url>.<tag b64url>.<ciphertext b64url>`.
 */
export interface SecretBox {
  /** Id of the key new values are sealed with. */
  readonly keyId: string;
  seal(plaintext: string, context?: string): string;
  /** Throws when the value was sealed with a key not in the ring, tampered with, or bound to another context. */
  open(sealed: string, context?: string): string;
}

export class SecretBoxError extends Error {
  override name = "SecretBoxError";
}

/** HKDF salt and info: which service's keys these are. */
export interface SecretBoxDomain {
  salt: string;
  info: string;
}

/** The auth service's domain (the first user of the box; its sealed values depend on these strings). */
export const authSecretBoxDomain: SecretBoxDomain = {
  salt: "conhub-auth",
  info: "conhub secret box v1 aes-256-gcm",
};

interface RingKey {
  id: string;
  key: Buffer;
}

/** Derives a 256-bit key and its id from a master secret. */
export function deriveBoxKey(masterSecret: string, domain: SecretBoxDomain = authSecretBoxDomain): RingKey {
  const key = Buffer.from(hkdfSync("sha256", masterSecret, domain.salt, domain.info, 32));
  const id = createHash("sha256").update(key).digest("base64url").slice(0, 8);
  return { id, key };
}

/** A box over one or more master secrets; the first seals, all open (for rotation). */
export function createSecretBox(
  masterSecrets: string[],
  domain: SecretBoxDomain = authSecretBoxDomain,
): SecretBox {
  if (masterSecrets.length === 0) throw new SecretBoxError("a secret box needs at least one key");
  const ring = masterSecrets.map((s) => deriveBoxKey(s, domain));
  const current = ring[0]!;
  return {
    keyId: current.id,
    seal(plaintext, context = "") {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", current.key, iv);
      cipher.setAAD(Buffer.from(context));
      const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        "v1",
        current.id,
        iv.toString("base64url"),
        tag.toString("base64url"),
        ciphertext.toString("base64url"),
      ].join(".");
    },
    open(sealed, context = "") {
      const [version, kid, iv, tag, ciphertext] = sealed.split(".");
      if (version !== "v1" || !kid || !iv || !tag || ciphertext === undefined) {
        throw new SecretBoxError("not a sealed value");
      }
      const entry = ring.find((k) => k.id === kid);
      if (!entry)
        throw new SecretBoxError(`sealed with key ${kid}, which is not configured (was JWT_SECRET changed?)`);
      try {
        const decipher = createDecipheriv("aes-256-gcm", entry.key, Buffer.from(iv, "base64url"));
        decipher.setAAD(Buffer.from(context));
        decipher.setAuthTag(Buffer.from(tag, "base64url"));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, "base64url")),
          decipher.final(),
        ]).toString("utf8");
      } catch (err) {
        throw new SecretBoxError("the sealed value does not authenticate (tampered, or another context)", {
          cause: err,
        });
      }
    },
  };
}
