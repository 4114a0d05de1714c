import {
  type NetworkPolicy,
  OutboundNetworkError,
  PrivateAddressError as SharedPrivateAddressError,
  resolveChecked as sharedResolveChecked,
} from "@conhub/utils/net";
import { SourceError } from "../connectors/connector.js";

/**
 * The data service's view of the shared network policy (`@conhub/utils/net`):
 * the same checks, with refusals turned into `SourceError`s (a run fails at
 * once with the message, no retries) that tell an admin which setting to change.
 */
export {
  addressRange,
  isPublicAddress,
  type NetworkPolicy,
  parseNetworkPolicy,
  publicOnly,
} from "@conhub/utils/net";

export class PrivateAddressError extends SourceError {
  constructor(
    readonly host: string,
    readonly address: string,
    message: string,
  ) {
    super(
      `${message.replace(/ only public addresses may be reached\.$/, " sources may only reach public addresses.")} ` +
        "To index a server on a private network, an admin sets DATA_ALLOW_PRIVATE_NETWORKS (true, or its address ranges) and the source sets allowPrivateNetwork: true.",
    );
  }
}

/** A shared network error as the data service reports it. */
export function asSourceError(err: unknown): unknown {
  if (err instanceof SharedPrivateAddressError)
    return new PrivateAddressError(err.host, err.address, err.message);
  if (err instanceof OutboundNetworkError) return new SourceError(err.message);
  return err;
}

/** Resolves `host` and returns its addresses, every one checked against the policy. */
export async function resolveChecked(host: string, policy: NetworkPolicy): Promise<string[]> {
  try {
    return await sharedResolveChecked(host, policy);
  } catch (err) {
    throw asSourceError(err);
  }
}
