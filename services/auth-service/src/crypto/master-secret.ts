import { join } from "node:path";
import { readOrCreateKeyFile } from "@conhub/utils";
import { randomSecret } from "./hashing.js";

export { readOrCreateKeyFile };

/** `<data dir>/auth/keys`: the auth service's key files, readable by the owner only. */
export function keysDir(dataDir: string): string {
  return join(dataDir, "auth", "keys");
}

/**
 * The master secret the secret box derives its key from: JWT_SECRET when set
 * (required in production); otherwise a random one kept in
 * `<data dir>/auth/keys/master.secret` (0600), so development needs no setup.
 */
export async function loadMasterSecret(jwtSecret: string | undefined, dataDir: string): Promise<string> {
  if (jwtSecret) return jwtSecret;
  return (await readOrCreateKeyFile(keysDir(dataDir), "master.secret", () => `${randomSecret()}\n`)).trim();
}
