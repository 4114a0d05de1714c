import type { PlatformStatus } from "@conhub/models";
import { parsePlatformStatus, ShapeError } from "./parse-status";

/** How often the page asks for `/status.json`, and how long one request may take. */
export const POLL_INTERVAL_MS = 5_000;
const REQUEST_TIMEOUT_MS = 4_000;

/**
 * Where `/status.json` lives. Same origin by default (the export is served by
 * the frontend target, and at `/` of the gateway); `NEXT_PUBLIC_CONHUB_API`
 * (inlined at build time) points a dev server or a separately hosted export at a gateway.
 */
export function statusUrl(): string {
  const base = (process.env.NEXT_PUBLIC_CONHUB_API ?? "").trim().replace(/\/+$/, "");
  return `${base}/status.json`;
}

/** `unreachable`: no answer or an HTTP error; `unreadable`: an answer this page cannot read. */
export type FailureKind = "unreachable" | "unreadable";

export type FetchResult =
  | { ok: true; status: PlatformStatus }
  | { ok: false; kind: FailureKind; error: string };

/** One request for the platform status; every failure becomes a sentence for the page. */
export async function fetchStatus(): Promise<FetchResult> {
  const url = statusUrl();
  let res: Response;
  try {
    res = await fetch(url, {
      cache: "no-store",
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "TimeoutError") {
      return {
        ok: false,
        kind: "unreachable",
        error: `no answer from ${url} within ${REQUEST_TIMEOUT_MS / 1000} s.`,
      };
    }
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, kind: "unreachable", error: `the request to ${url} failed (${reason}).` };
  }
  if (!res.ok) {
    const text = res.statusText ? ` ${res.statusText}` : "";
    return { ok: false, kind: "unreachable", error: `${url} answered HTTP ${res.status}${text}.` };
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { ok: false, kind: "unreadable", error: `${url} did not answer with JSON.` };
  }
  try {
    return { ok: true, status: parsePlatformStatus(body) };
  } catch (err) {
    const reason = err instanceof ShapeError ? err.message : String(err);
    return {
      ok: false,
      kind: "unreadable",
      error: `${url} answered JSON in an unexpected shape (${reason}).`,
    };
  }
}
