import { randomBytes } from "node:crypto";
import { createSecretBox, masterSecretOrDevFile, type SecretBox } from "@conhub/utils";

/**
 * Source credentials and webhook secrets are sealed with the secret box of
 * ADR 0005 under the data service's own key domain. The master secret is
 * JWT_SECRET, or in development a random one kept in
 * `<data dir>/data/keys/master.secret` (0600).
 */
export const dataSecretBoxDomain = { salt: "conhub-data", info: "conhub data secrets v1 aes-256-gcm" };

export async function loadDataSecretBox(jwtSecret: string | undefined, dataDir: string): Promise<SecretBox> {
  return createSecretBox([await masterSecretOrDevFile(jwtSecret, dataDir, "data")], dataSecretBoxDomain);
}

/** A new webhook secret: 256 bits, hex (what GitHub and GitLab accept). */
export function newWebhookSecret(): string {
  return randomBytes(32).toString("hex");
}
