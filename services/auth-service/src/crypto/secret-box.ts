/**
 * The secret box lives in `@conhub/utils` (the data service seals source
 * credentials with it too); the auth service uses it with its own domain,
 * the default, so values sealed before the move still open.
 */
export { createSecretBox, deriveBoxKey, type SecretBox, SecretBoxError } from "@conhub/utils";
