import { errors } from "@conhub/utils";
import { bodyLimit } from "hono/body-limit";

/** The auth service's JSON bodies are small; anything bigger is refused before parsing. */
export const authBodyLimitBytes = 16 * 1024;

export const smallBody = bodyLimit({
  maxSize: authBodyLimitBytes,
  onError: () => {
    throw errors.payloadTooLarge(authBodyLimitBytes);
  },
});
