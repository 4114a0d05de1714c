import { propagationHeaders } from "@conhub/utils";

/**
 * How one service calls another. In one process it is the other app's
 * `fetch` (no socket); split, it is HTTP to a base URL. Typed clients take a
 * `ServiceFetch` and never know which. Both forward `x-request-id` and
 * `traceparent` of the request being served.
 */
export type ServiceFetch = (path: string, init?: RequestInit) => Promise<Response>;

/** A fetch handler such as `app.fetch` of a Hono app. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

function withPropagation(init: RequestInit | undefined): Headers {
  const headers = new Headers(init?.headers);
  for (const [name, value] of Object.entries(propagationHeaders())) {
    if (!headers.has(name)) headers.set(name, value);
  }
  return headers;
}

/** Calls an app in this process; the URL's host is only decoration. */
export function inProcessFetch(target: string, handler: FetchHandler): ServiceFetch {
  return async (path, init) => {
    const request = new Request(new URL(path, `http://${target}.internal`), {
      ...init,
      headers: withPropagation(init),
    });
    return handler(request);
  };
}

/** Calls a service over HTTP at `baseUrl`. */
export function httpFetch(baseUrl: string, fetchImpl: typeof fetch = fetch): ServiceFetch {
  const base = baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`;
  return (path, init) =>
    fetchImpl(new URL(path.replace(/^\//, ""), base), { ...init, headers: withPropagation(init) });
}
