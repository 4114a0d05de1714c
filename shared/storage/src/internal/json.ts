export function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new TypeError(`Cache TTL must be a positive number of ms, got ${ttlMs}`);
}

/** JSON text of a cache value; refuses values JSON cannot hold (`undefined`, functions). */
export function toJson(value: unknown): string {
  const raw = JSON.stringify(value);
  if (raw === undefined) throw new TypeError("Cache values must be JSON-serialisable");
  return raw;
}

export function assertLimit(limit: number, windowMs: number): void {
  if (!Number.isInteger(limit) || limit < 0)
    throw new TypeError(`Rate limit must be a whole number ≥ 0, got ${limit}`);
  if (!Number.isFinite(windowMs) || windowMs <= 0)
    throw new TypeError(`Rate window must be positive ms, got ${windowMs}`);
}
