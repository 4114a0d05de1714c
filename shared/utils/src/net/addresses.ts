import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { z } from "zod";

/**
 * Which addresses an outbound request may reach (the crawler, git over HTTP,
 * outbound webhooks). Only global unicast is public: private (10/8,
 * 172.16/12, 192.168/16, fc00::/7), loopback, link-local (cloud metadata at
 * 169.254.169.254 included), carrier-grade NAT, multicast, reserved and the
 * IPv6 forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are
 * refused, unless the network policy allows them.
 */
export interface NetworkPolicy {
  /** Whether a non-public address may be reached. */
  allowsPrivate(address: string): boolean;
  readonly description: string;
}

type Family = "ipv4" | "ipv6";

/**
 * The IANA special-purpose ranges, named as ipaddr.js names them (the first
 * match wins). Node's BlockList matches IPv4 rules against IPv4-mapped IPv6
 * addresses too, so `::ffff:127.0.0.1` is a loopback address.
 */
const ipv4Ranges: Array<[string, Array<[string, number]>]> = [
  ["unspecified", [["0.0.0.0", 8]]],
  ["broadcast", [["255.255.255.255", 32]]],
  ["multicast", [["224.0.0.0", 4]]],
  ["linkLocal", [["169.254.0.0", 16]]],
  ["loopback", [["127.0.0.0", 8]]],
  ["carrierGradeNat", [["100.64.0.0", 10]]],
  [
    "private",
    [
      ["10.0.0.0", 8],
      ["172.16.0.0", 12],
      ["192.168.0.0", 16],
    ],
  ],
  [
    "reserved",
    [
      ["192.0.0.0", 24],
      ["192.0.2.0", 24],
      ["192.88.99.0", 24],
      ["198.18.0.0", 15],
      ["198.51.100.0", 24],
      ["203.0.113.0", 24],
      ["240.0.0.0", 4],
    ],
  ],
  [
    "as112",
    [
      ["192.175.48.0", 24],
      ["192.31.196.0", 24],
    ],
  ],
  ["amt", [["192.52.193.0", 24]]],
];

const ipv6Ranges: Array<[string, Array<[string, number]>]> = [
  ["unspecified", [["::", 128]]],
  ["linkLocal", [["fe80::", 10]]],
  ["multicast", [["ff00::", 8]]],
  ["loopback", [["::1", 128]]],
  ["uniqueLocal", [["fc00::", 7]]],
  ["ipv4Mapped", [["::ffff:0:0", 96]]],
  ["deprecatedSiteLocal", [["fec0::", 10]]],
  ["discard", [["100::", 64]]],
  ["rfc6145", [["::ffff:0:0:0", 96]]],
  [
    "rfc6052",
    [
      ["64:ff9b::", 96],
      ["64:ff9b:1::", 48],
    ],
  ],
  ["6to4", [["2002::", 16]]],
  ["teredo", [["2001::", 32]]],
  ["benchmarking", [["2001:2::", 48]]],
  ["amt", [["2001:3::", 32]]],
  [
    "as112v6",
    [
      ["2001:4:112::", 48],
      ["2620:4f:8000::", 48],
    ],
  ],
  ["deprecatedOrchid", [["2001:10::", 28]]],
  ["orchid2", [["2001:20::", 28]]],
  ["droneRemoteIdProtocolEntityTags", [["2001:30::", 28]]],
  ["segmentRouting", [["5f00::", 16]]],
  [
    "reserved",
    [
      ["2001::", 23],
      ["2001:db8::", 32],
      ["3fff::", 20],
    ],
  ],
];

function table(ranges: Array<[string, Array<[string, number]>]>, family: Family) {
  return ranges.map(([name, subnets]) => {
    const list = new BlockList();
    for (const [network, bits] of subnets) list.addSubnet(network, bits, family);
    return { name, list };
  });
}

const ipv4Table = table(ipv4Ranges, "ipv4");
const ipv6Table = table(ipv6Ranges, "ipv6");
const mapped = ipv6Table.find((r) => r.name === "ipv4Mapped")!.list;

/** `address` without an IPv6 zone (`fe80::1%eth0`), and its family; throws when it is not an IP address. */
function normalize(address: string): { address: string; family: Family } {
  const bare = address.includes("%") ? address.slice(0, address.indexOf("%")) : address;
  const version = isIP(bare);
  if (version === 0) throw new TypeError(`${address} is not an IP address`);
  return { address: bare, family: version === 4 ? "ipv4" : "ipv6" };
}

/** The special-purpose range an address is in (`loopback`, `private`, `linkLocal`…), or `unicast`. */
export function addressRange(address: string): string {
  const { address: a, family } = normalize(address);
  // An IPv4-mapped address is the IPv4 address it carries.
  const ranges = family === "ipv4" || mapped.check(a, "ipv6") ? ipv4Table : ipv6Table;
  return ranges.find((r) => r.list.check(a, family))?.name ?? "unicast";
}

export function isPublicAddress(address: string): boolean {
  return addressRange(address) === "unicast";
}

export const publicOnly: NetworkPolicy = { allowsPrivate: () => false, description: "public addresses only" };

/**
 * An admin's setting (DATA_ALLOW_PRIVATE_NETWORKS, WEBHOOK_ALLOW_PRIVATE_NETWORKS):
 * `false`, `true` (any address), or a comma-separated list of CIDR ranges
 * (`10.0.0.0/8,fd00::/8`). Returns an error message for a value that is none of these.
 */
export function parseNetworkPolicy(value: string): NetworkPolicy | string {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "false" || v === "0") return publicOnly;
  if (v === "true" || v === "1") return { allowsPrivate: () => true, description: "every address" };
  const list = new BlockList();
  const names: string[] = [];
  for (const part of v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [network = "", bitsText, extra] = part.split("/");
    const version = isIP(network);
    const max = version === 6 ? 128 : 32;
    const bits = bitsText === undefined ? max : Number(bitsText);
    if (version === 0 || extra !== undefined || !/^\d{1,3}$/.test(String(bits)) || bits > max) {
      return `must be true, false or a comma-separated list of CIDR ranges (e.g. 10.0.0.0/8); "${part}" is not one`;
    }
    list.addSubnet(network, bits, version === 4 ? "ipv4" : "ipv6");
    names.push(`${network}/${bits}`);
  }
  return {
    allowsPrivate(address) {
      const { address: a, family } = normalize(address);
      return list.check(a, family);
    },
    description: `public addresses and ${names.join(", ")}`,
  };
}

/** An outbound request refused or failed for a reason the user can act on (the message says which). */
export class OutboundNetworkError extends Error {
  override readonly name: string = "OutboundNetworkError";
}

export class PrivateAddressError extends OutboundNetworkError {
  override readonly name = "PrivateAddressError";
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `${host} resolves to ${address}, a ${addressRange(address)} address: only public addresses may be reached.`,
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
      throw new OutboundNetworkError(
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

/** An environment variable holding a network policy (see `parseNetworkPolicy`), `false` when unset. */
export function networkPolicySchema() {
  return z
    .string()
    .default("false")
    .transform((v, ctx) => {
      const policy = parseNetworkPolicy(v);
      if (typeof policy === "string") {
        ctx.addIssue({ code: "custom", message: policy });
        return z.NEVER;
      }
      return policy;
    });
}
