/**
 * Document URIs: `conhub://<sourceId>/<path>`, optionally `#L<start>-L<end>`.
 *
 * Source ids may hold characters a URL authority cannot (`local:3f2a…` has a
 * colon, ids from other systems may have slashes), so the source id is
 * percent-encoded as one component and the path segment by segment. Parsing
 * is done by hand, not with `new URL`, and accepts what a model types: an
 * unencoded source id up to the first `/`, unencoded paths, a line fragment.
 */

export const uriScheme = "conhub://";

/** The resource template clients see (RFC 6570: `{+path}` keeps its slashes). */
export const documentUriTemplate = "conhub://{sourceId}/{+path}";

export interface DocumentRef {
  sourceId: string;
  path: string;
  /** From a `#L12-L40` (or `#L12`) fragment. */
  lines?: { start: number; end: number };
}

export function documentUri(sourceId: string, path: string, lines?: { start: number; end: number }): string {
  const encodedPath = path.split("/").map(encodeURIComponent).join("/");
  const fragment = lines ? `#L${lines.start}-L${lines.end}` : "";
  return `${uriScheme}${encodeURIComponent(sourceId)}/${encodedPath}${fragment}`;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // A literal `%` the model did not encode.
    return part;
  }
}

export type ParsedUri = { ok: true; ref: DocumentRef } | { ok: false; reason: string };

export function parseDocumentUri(uri: string): ParsedUri {
  const example =
    "conhub://<sourceId>/<path>, e.g. conhub://repo-a/src/app.ts (as search results and list_sources show)";
  if (!uri.toLowerCase().startsWith(uriScheme)) {
    return { ok: false, reason: `${JSON.stringify(uri)} is not a ConHub document URI; expected ${example}.` };
  }
  let rest = uri.slice(uriScheme.length);
  let lines: DocumentRef["lines"];
  const hash = rest.indexOf("#");
  if (hash !== -1) {
    const fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
    const match = /^L(\d+)(?:-L?(\d+))?$/i.exec(fragment);
    if (match) {
      const start = Number(match[1]);
      const end = match[2] === undefined ? start : Number(match[2]);
      if (start >= 1 && end >= start) lines = { start, end };
    }
  }
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) {
    return { ok: false, reason: `${JSON.stringify(uri)} names no document; expected ${example}.` };
  }
  const sourceId = decode(rest.slice(0, slash));
  const path = rest
    .slice(slash + 1)
    .split("/")
    .map(decode)
    .join("/");
  return { ok: true, ref: { sourceId, path, ...(lines ? { lines } : {}) } };
}
