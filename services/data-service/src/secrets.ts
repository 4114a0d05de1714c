import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecretBox, type SecretBox } from "@conhub/utils";

/**
 * Source credentials and webhook secrets are sealed with the secret box of
 * ADR 0005 under the data service's own key domain. The master secret is
 * JWT_SECRET, or in development a random one kept in
 * `<data dir>/data/keys/master.secret` (0600).
 */
export const dataSecretBoxDomain = { salt: "conhub-data", info: "conhub data secrets v1 aes-256-gcm" };

async function devMasterSecret(dataDir: string): Promise<string> {
  const dir = join(dataDir, "data", "keys");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const file = join(dir, "master.secret");
  try {
    await writeFile(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return (await readFile(file, "utf8")).trim();
}

export async function loadDataSecretBox(jwtSecret: string | undefined, dataDir: string): Promise<SecretBox> {
  return createSecretBox([jwtSecret || (await devMasterSecret(dataDir))], dataSecretBoxDomain);
}

/** A new webhook secret: 256 bits, hex (what GitHub and GitLab accept). */
export function newWebhookSecret(): string {
  return randomBytes(32).toString("hex");
}
