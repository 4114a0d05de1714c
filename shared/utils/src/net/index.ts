export {
  addressRange,
  isPublicAddress,
  type NetworkPolicy,
  networkPolicySchema,
  OutboundNetworkError,
  PrivateAddressError,
  parseNetworkPolicy,
  publicOnly,
  resolveChecked,
} from "./addresses.js";
export {
  type SafeFetch,
  type SafeFetchRequest,
  type SafeResponse,
  safeFetch,
  TooManyRedirectsError,
} from "./safe-fetch.js";
