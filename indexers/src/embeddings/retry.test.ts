import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_RETRY, parseDuration, retryAfterMs } from "./retry.js";

describe("retry hints", () => {
  const now = Date.parse("2026-11-25T12:00:00Z");

  it("reads Retry-After as seconds or an HTTP date, and retry-after-ms first", () => {
    expect(retryAfterMs(new Headers({ "retry-after": "7" }), 429, now)).toBe(7_000);
    expect(retryAfterMs(new Headers({ "retry-after": "0.5" }), 503, now)).toBe(500);
    expect(retryAfterMs(new Headers({ "retry-after": "Wed, 25 Nov 2026 12:00:30 GMT" }), 429, now)).toBe(
      30_000,
    );
    expect(retryAfterMs(new Headers({ "retry-after": "Wed, 25 Nov 2026 11:00:00 GMT" }), 429, now)).toBe(0);
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }), 429, now)).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }), 429, now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), 500, now)).toBeUndefined();
  });

  it("uses x-ratelimit-reset-* of the exhausted limit on a 429 only", () => {
    const headers = new Headers({
      "x-ratelimit-remaining-requests": "0",
      "x-ratelimit-reset-requests": "1m2.5s",
      "x-ratelimit-remaining-tokens": "1000",
      "x-ratelimit-reset-tokens": "6m0s",
    });
    expect(retryAfterMs(headers, 429, now)).toBe(62_500);
    expect(retryAfterMs(headers, 503, now)).toBeUndefined();
    headers.set("x-ratelimit-remaining-requests", "5");
    expect(retryAfterMs(headers, 429, now)).toBeUndefined();
  });

  it("parses Go-style durations", () => {
    expect(parseDuration("20ms")).toBe(20);
    expect(parseDuration("1h2m3.5s")).toBe(3_723_500);
    expect(parseDuration("6m0s")).toBe(360_000);
    expect(parseDuration("3 seconds")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });

  it("backs off exponentially with jitter, within the cap", () => {
    const policy = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(policy, 1, () => 0)).toBe(50);
    expect(backoffDelay(policy, 1, () => 1)).toBe(100);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(300);
    expect(backoffDelay(policy, 10, () => 1)).toBe(1_000);
  });
});
