import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { SourceError } from "../connectors/connector.js";

/**
 * Which addresses a source may reach. Only global unicast is public: private
 * (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local (cloud
 * metadata at 169.254.169.254 included), carrier-grade NAT, multicast,
 * reserved and the IPv6 forms that embed an IPv4 address (mapped, 6to4,
 * Teredo, NAT64) are refused, unless the network policy allows them.
 */
export interface NetworkPolicy {
  /** Whether a non-public address may be reached. */
  allowsPrivate(address: string): boolean;
  readonly description: string;
}

type Parsed = ipaddr.IPv4 | ipaddr.IPv6;

function parse(address: string): Parsed {
  let parsed: Parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed;
}

export function addressRange(address: string): string {
  return parse(address).range();
}

export function isPublicAddress(address: string): boolean {
  return addressRange(address) === "unicast";
}

export const publicOnly: NetworkPolicy = { allowsPrivate: () => false, description: "public addresses only" };

/**
 * The admin's setting (DATA_ALLOW_PRIVATE_NETWORKS): `false`, `true` (any
 * address), or a comma-separated list of CIDR ranges (`10.0.0.0/8,fd00::/8`).
 * Returns an error message for a value that is none of these.
 */
export function parseNetworkPolicy(value: string): NetworkPolicy | string {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "false" || v === "0") return publicOnly;
  if (v === "true" || v === "1") return { allowsPrivate: () => true, description: "every address" };
  const ranges: Array<[Parsed, number]> = [];
  for (const part of v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      ranges.push(
        part.includes("/") ? ipaddr.parseCIDR(part) : [ipaddr.parse(part), part.includes(":") ? 128 : 32],
      );
    } catch {
      return `must be true, false or a comma-separated list of CIDR ranges (e.g. 10.0.0.0/8); "${part}" is not one`;
    }
  }
  return {
    allowsPrivate(address) {
      const parsed = parse(address);
      return ranges.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits));
    },
    description: `public addresses and ${ranges.map(([r, b]) => `${r.toString()}/${b}`).join(", ")}`,
  };
}

export class PrivateAddressError extends SourceError {
  constructor(host: string, address: string) {
    super(
      `${host} resolves to ${address}, a ${addressRange(address)} address: sources may only reach public addresses. ` +
        "To index a server on a private network, an admin sets DATA_ALLOW_PRIVATE_NETWORKS (true, or its address ranges) and the source sets allowPrivateNetwork: true.",
    );
  }
}

/** Resolves `host` and returns its addresses, every one checked against the policy. */
export async function resolveChecked(host: string, policy: NetworkPolicy): Promise<string[]> {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  let addresses: string[];
  if (isIP(bare)) {
    addresses = [bare];
  } else {
    try {
      addresses = (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new SourceError(
        `The host ${bare} cannot be resolved (${code ?? "DNS error"}): check the URL's spelling and that the host is reachable from the ConHub server.`,
      );
    }
  }
  for (const address of addresses) {
    if (!isPublicAddress(address) && !policy.allowsPrivate(address))
      throw new PrivateAddressError(bare, address);
  }
  return addresses;
}
