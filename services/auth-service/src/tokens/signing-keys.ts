import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import type { Dialect } from "@conhub/storage";
import { calculateJwkThumbprint, type JWK } from "jose";
import { type Kysely, sql } from "kysely";
import { keysDir, readOrCreateKeyFile } from "../crypto/master-secret.js";
import type { SecretBox } from "../crypto/secret-box.js";
import type { AuthDatabase } from "../db/schema.js";

/**
 * The Ed25519 key pair that signs access tokens, and the JWKS that publishes
 * its public half. Where it comes from (ADR 0005):
 * - `AUTH_SIGNING_KEY` (a PKCS#8 PEM) when set: every replica uses it;
 * - on PostgreSQL, the `signing_keys` table, the private key sealed with the
 *   secret box (key derived from JWT_SECRET): replicas on one database share
 *   it, and the first to start creates it under a table lock;
 * - on SQLite (one machine), `<data dir>/auth/keys/signing-key.pem` (0600),
 *   created on first start.
 */
export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  /** Public keys to publish: the current one first, then older ones still accepted. */
  jwks: { keys: JWK[] };
  source: "config" | "database" | "file";
}

export const signingAlgorithm = "EdDSA";

function newPrivateKeyPem(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  return privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

async function publicJwkOf(privateKey: KeyObject): Promise<{ kid: string; jwk: JWK }> {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, jwk: { ...jwk, kid, alg: signingAlgorithm, use: "sig" } };
}

function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${where} is not a PEM private key`, { cause: err });
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new Error(
      `${where} must be an Ed25519 key (openssl genpkey -algorithm ed25519), not ${key.asymmetricKeyType}`,
    );
  }
  return key;
}

async function fromPem(pem: string, where: string, source: SigningKeys["source"]): Promise<SigningKeys> {
  const privateKey = parsePrivateKey(pem, where);
  const { kid, jwk } = await publicJwkOf(privateKey);
  return { kid, privateKey, jwks: { keys: [jwk] }, source };
}

export interface LoadSigningKeysOptions {
  configuredPem: string | undefined;
  dialect: Dialect;
  db: Kysely<AuthDatabase>;
  box: SecretBox;
  dataDir: string;
  now: () => Date;
}

export async function loadSigningKeys(options: LoadSigningKeysOptions): Promise<SigningKeys> {
  if (options.configuredPem) {
    return fromPem(options.configuredPem.replaceAll("\\n", "\n"), "AUTH_SIGNING_KEY", "config");
  }
  if (options.dialect === "sqlite") {
    const pem = await readOrCreateKeyFile(keysDir(options.dataDir), "signing-key.pem", newPrivateKeyPem);
    return fromPem(pem, "the signing key file", "file");
  }
  return loadFromDatabase(options);
}

async function loadFromDatabase(options: LoadSigningKeysOptions): Promise<SigningKeys> {
  const { db, box } = options;
  const rows = await db.transaction().execute(async (trx) => {
    // Replicas starting together: one creates the key, the others wait and read it.
    await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
    const existing = await trx.selectFrom("signing_keys").selectAll().orderBy("created_at", "desc").execute();
    if (existing.length > 0) return existing;
    const pem = newPrivateKeyPem();
    const { kid, jwk } = await publicJwkOf(createPrivateKey(pem));
    const row = {
      kid,
      algorithm: signingAlgorithm,
      public_jwk: JSON.stringify(jwk),
      private_key_sealed: box.seal(pem, `signing-key:${kid}`),
      created_at: options.now().toISOString(),
    };
    await trx.insertInto("signing_keys").values(row).execute();
    return [row];
  });
  const current = rows[0]!;
  const pem = box.open(current.private_key_sealed, `signing-key:${current.kid}`);
  const privateKey = parsePrivateKey(pem, "the signing key in the database");
  return {
    kid: current.kid,
    privateKey,
    jwks: { keys: rows.map((r) => JSON.parse(r.public_jwk) as JWK) },
    source: "database",
  };
}
