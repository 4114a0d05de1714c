import {
  type SafeFetch,
  TooManyRedirectsError as SharedTooManyRedirectsError,
  safeFetch as sharedSafeFetch,
} from "@conhub/utils/net";
import { SourceError } from "../connectors/connector.js";
import { asSourceError } from "./addresses.js";

/**
 * The shared safe fetch (`@conhub/utils/net`: every redirect hop resolved and
 * checked, the connection pinned to the checked address), with its refusals
 * and network failures reported as `SourceError`s.
 */
export type { SafeFetch, SafeFetchRequest, SafeResponse } from "@conhub/utils/net";

export class TooManyRedirectsError extends SourceError {}

export const safeFetch: SafeFetch = async (url, request) => {
  try {
    return await sharedSafeFetch(url, request);
  } catch (err) {
    if (err instanceof SharedTooManyRedirectsError) throw new TooManyRedirectsError(err.message);
    throw asSourceError(err);
  }
};
