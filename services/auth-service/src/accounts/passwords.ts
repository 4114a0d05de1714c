import argon2 from "argon2";
import { commonPasswords } from "./common-passwords.js";

/**
 * argon2id with OWASP's recommended minimum (m = 19 MiB, t = 2, p = 1):
 * ~25–50 ms per hash on our 2-core machines.
 */
export const argon2Parameters = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export const passwordMinLength = 10;
/** argon2 hashes any length, but a megabyte password is only a way to burn CPU. */
export const passwordMaxLength = 256;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** Spends the time of a real verification; for users that do not exist (no timing difference). */
  verifyDummy(password: string): Promise<void>;
}

export async function createPasswordHasher(): Promise<PasswordHasher> {
  const dummyHash = await argon2.hash("conhub-dummy-password-for-timing", argon2Parameters);
  return {
    hash: (password) => argon2.hash(password, argon2Parameters),
    async verify(hash, password) {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
    async verifyDummy(password) {
      await argon2.verify(dummyHash, password).catch(() => false);
    },
  };
}

/** Why a password is refused, or undefined when it is acceptable. */
export function passwordProblem(password: string, email: string | undefined): string | undefined {
  if (password.length < passwordMinLength) return `must be at least ${passwordMinLength} characters`;
  if (password.length > passwordMaxLength) return `must be at most ${passwordMaxLength} characters`;
  const lower = password.toLowerCase();
  if (email) {
    const normalized = email.trim().toLowerCase();
    const local = normalized.split("@")[0] ?? "";
    if (lower === normalized || (local.length >= 4 && lower.includes(local))) {
      return "must not contain your email address";
    }
  }
  if (commonPasswords.has(lower)) return "is one of the most common passwords; choose another";
  if (new Set(lower).size < 4) return "needs more different characters";
  return undefined;
}
