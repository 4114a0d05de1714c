import { randomBytes } from "node:crypto";
import { createSecretBox, masterSecretOrDevFile, type SecretBox } from "@conhub/utils";

/**
 * Endpoint signing secrets are sealed with the secret box of ADR 0005 under
 * the webhook service's own key domain. The master secret is JWT_SECRET, or
 * in development a random one kept in `<data dir>/webhook/keys/master.secret` (0600).
 */
export const outboundSecretBoxDomain = {
  salt: "conhub-webhook",
  info: "conhub webhook endpoint secrets v1 aes-256-gcm",
};

export async function loadOutboundSecretBox(
  jwtSecret: string | undefined,
  dataDir: string,
): Promise<SecretBox> {
  return createSecretBox(
    [await masterSecretOrDevFile(jwtSecret, dataDir, "webhook")],
    outboundSecretBoxDomain,
  );
}

/** A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export const endpointSecretContext = (endpointId: string) => `outbound-endpoint:${endpointId}:secret`;
