import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { type NetworkPolicy, OutboundNetworkError, resolveChecked } from "./addresses.js";

/**
 * HTTP(S) requests to URLs users gave us (the crawler, git, outbound
 * webhooks). Every hop of a redirect chain is checked: the host is resolved,
 * every address it resolves to must be public (unless the policy allows it),
 * and the connection goes to the address that was checked (the socket's
 * `lookup` returns it), so DNS cannot answer differently between check and
 * connect.
 */

export interface SafeFetchRequest {
  /** Default GET. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Which non-public addresses may be reached (default: none). */
  policy: NetworkPolicy;
  /** false: a redirect is returned as it is, never followed. Default true. */
  followRedirects?: boolean;
  /** Redirects followed (each checked like the first request). Default 5. */
  maxRedirects?: number;
  /** Bodies larger than this are cut and reported as `truncated`. Default 10 MiB. */
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface SafeResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: string;
  /** Every URL of the chain, the first one included. */
  chain: string[];
  truncated: boolean;
}

export type SafeFetch = (url: string, request: SafeFetchRequest) => Promise<SafeResponse>;

export class TooManyRedirectsError extends OutboundNetworkError {
  override readonly name = "TooManyRedirectsError";
}

function once(
  url: URL,
  request: SafeFetchRequest,
  addresses: string[],
): Promise<Omit<SafeResponse, "chain" | "url">> {
  const checked = addresses[0]!;
  const family = checked.includes(":") ? 6 : 4;
  // The connection uses the address already checked, never a fresh lookup.
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as (e: null, a: Array<{ address: string; family: number }>) => void)(null, [
        { address: checked, family },
      ]);
    } else callback(null, checked, family);
  };
  const maxBytes = request.maxBytes ?? 10 * 1024 * 1024;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: request.method ?? "GET",
        headers: { "user-agent": "ConHubBot/0.1 (+https://github.com/conhub)", ...request.headers },
        lookup: pinned,
        timeout: request.timeoutMs ?? 20_000,
        ...(request.signal ? { signal: request.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        res.on("data", (chunk: Buffer) => {
          if (truncated) return;
          if (size + chunk.length > maxBytes) {
            chunks.push(chunk.subarray(0, maxBytes - size));
            size = maxBytes;
            truncated = true;
            res.destroy();
            finish();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
        }
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks), truncated });
        };
        res.on("end", finish);
        res.on("error", (err) => (truncated ? finish() : reject(err)));
      },
    );
    req.on("timeout", () => req.destroy(new OutboundNetworkError(`${url.origin} did not answer in time.`)));
    req.on("error", (err) => {
      if (err instanceof OutboundNetworkError || (err as { name?: string }).name === "AbortError")
        reject(err);
      else
        reject(
          new OutboundNetworkError(
            `${url.origin} cannot be reached (${(err as NodeJS.ErrnoException).code ?? err.message}): check the URL and that the server is up.`,
          ),
        );
    });
    req.end(request.body);
  });
}

export const safeFetch: SafeFetch = async (input, request) => {
  let url = new URL(input);
  const chain = [url.href];
  const maxRedirects = request.maxRedirects ?? 5;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new OutboundNetworkError(`Only http:// and https:// URLs can be fetched, not ${url.protocol}`);
    }
    const addresses = await resolveChecked(url.hostname, request.policy);
    const res = await once(url, request, addresses);
    const location = res.headers.location;
    if (
      request.followRedirects !== false &&
      res.status >= 300 &&
      res.status < 400 &&
      res.status !== 304 &&
      location
    ) {
      if (hop >= maxRedirects) {
        throw new TooManyRedirectsError(`${chain[0]} redirects more than ${maxRedirects} times.`);
      }
      url = new URL(location, url);
      chain.push(url.href);
      continue;
    }
    return { ...res, url: url.href, chain };
  }
};
