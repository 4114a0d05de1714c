import type { Capabilities, DependencyStatus, PlatformStatus, TargetStatus } from "@conhub/models";

// A hand-written check of `/status.json` against the shared types in
// `@conhub/models` (type-only import: the workspace's TypeScript source is not
// bundled into the page). Because every parser below returns the shared type,
// a change to the schema there fails this file's typecheck in `next build`.

export class ShapeError extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, at: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ShapeError(`${at} is not an object`);
  return v as Obj;
}
function str(o: Obj, k: string, at: string): string {
  const v = o[k];
  if (typeof v !== "string") throw new ShapeError(`${at}.${k} is not a string`);
  return v;
}
function strOrNull(o: Obj, k: string, at: string): string | null {
  return o[k] === null ? null : str(o, k, at);
}
function num(o: Obj, k: string, at: string): number {
  const v = o[k];
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ShapeError(`${at}.${k} is not a number`);
  return v;
}
function numOrNull(o: Obj, k: string, at: string): number | null {
  return o[k] === null ? null : num(o, k, at);
}
function bool(o: Obj, k: string, at: string): boolean {
  const v = o[k];
  if (typeof v !== "boolean") throw new ShapeError(`${at}.${k} is not a boolean`);
  return v;
}
function oneOf<T extends string>(o: Obj, k: string, at: string, values: readonly T[]): T {
  const v = str(o, k, at);
  if (!(values as readonly string[]).includes(v)) {
    throw new ShapeError(`${at}.${k} is "${v}", expected one of ${values.join(", ")}`);
  }
  return v as T;
}
function arr<T>(o: Obj, k: string, at: string, item: (v: unknown, at: string) => T): T[] {
  const v = o[k];
  if (!Array.isArray(v)) throw new ShapeError(`${at}.${k} is not an array`);
  return v.map((x, i) => item(x, `${at}.${k}[${i}]`));
}
function strItem(v: unknown, at: string): string {
  if (typeof v !== "string") throw new ShapeError(`${at} is not a string`);
  return v;
}

function check(v: unknown, at: string): DependencyStatus {
  const o = obj(v, at);
  return {
    name: str(o, "name", at),
    kind: oneOf(o, "kind", at, ["embedded", "external"] as const),
    status: oneOf(o, "status", at, ["up", "down"] as const),
    latencyMs: num(o, "latencyMs", at),
    error: strOrNull(o, "error", at),
  };
}

function capabilities(v: unknown, at: string): Capabilities {
  const o = obj(v, at);
  return {
    summary: str(o, "summary", at),
    available: arr(o, "available", at, strItem),
    planned: arr(o, "planned", at, strItem),
    issue: numOrNull(o, "issue", at),
  };
}

function target(v: unknown, at: string): TargetStatus {
  const o = obj(v, at);
  return {
    name: str(o, "name", at),
    title: str(o, "title", at),
    port: num(o, "port", at),
    gatewayPrefix: strOrNull(o, "gatewayPrefix", at),
    url: str(o, "url", at),
    reachable: bool(o, "reachable", at),
    ready: bool(o, "ready", at),
    latencyMs: numOrNull(o, "latencyMs", at),
    error: strOrNull(o, "error", at),
    checks: arr(o, "checks", at, check),
    capabilities: capabilities(o.capabilities, `${at}.capabilities`),
  };
}

/** The body of `/status.json`, or a ShapeError naming the first field that does not fit. */
export function parsePlatformStatus(body: unknown): PlatformStatus {
  const o = obj(body, "status");
  return {
    generatedAt: str(o, "generatedAt", "status"),
    mode: oneOf(o, "mode", "status", ["one-process", "split"] as const),
    version: str(o, "version", "status"),
    targets: arr(o, "targets", "status", target),
  };
}
