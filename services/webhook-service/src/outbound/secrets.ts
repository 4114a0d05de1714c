import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecretBox, type SecretBox } from "@conhub/utils";

/**
 * Endpoint signing secrets are sealed with the secret box of ADR 0005 under
 * the webhook service's own key domain. The master secret is JWT_SECRET, or
 * in development a random one kept in `<data dir>/webhook/keys/master.secret` (0600).
 */
export const outboundSecretBoxDomain = {
  salt: "conhub-webhook",
  info: "conhub webhook endpoint secrets v1 aes-256-gcm",
};

async function devMasterSecret(dataDir: string): Promise<string> {
  const dir = join(dataDir, "webhook", "keys");
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

export async function loadOutboundSecretBox(
  jwtSecret: string | undefined,
  dataDir: string,
): Promise<SecretBox> {
  return createSecretBox([jwtSecret || (await devMasterSecret(dataDir))], outboundSecretBoxDomain);
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export const endpointSecretContext = (endpointId: string) => `outbound-endpoint:${endpointId}:secret`;
