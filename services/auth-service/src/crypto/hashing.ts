import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Compares a secret with a stored SHA-256 hash in constant time. */
export function secretMatchesHash(secret: string, storedHex: string): boolean {
  const actual = createHash("sha256").update(secret).digest();
  const expected = Buffer.from(storedHex, "hex");
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/** 256 bits from the CSPRNG, base64url (43 characters). */
export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
