import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local stand-in for the part of Qdrant's REST API (v1.8+) that
 * `qdrant.ts` uses, for tests on machines without a Qdrant server. It
 * answers as Qdrant documents (https://api.qdrant.tech/api-reference):
 * every JSON answer is `{ result, status: "ok", time }`, errors are
 * `{ status: { error }, time }` with Qdrant's codes and messages (404 for a
 * missing collection, 409 for one that exists, 400 for a vector of the wrong
 * size, 401/403 without a valid `api-key`). Search is brute force (exact),
 * so it checks the adapter's requests, not Qdrant's HNSW.
 *
 * Endpoints:
 * - `GET /` (version info, not enveloped, as Qdrant does)
 * - `GET /collections`, `GET /collections/{name}`, `PUT /collections/{name}`,
 *   `DELETE /collections/{name}`, `GET /collections/{name}/exists`
 * - `PUT /collections/{name}/index` (payload index)
 * - `PUT /collections/{name}/points` (upsert: `points` list or `batch`)
 * - `POST /collections/{name}/points/delete` (`points` ids or `filter`)
 * - `POST /collections/{name}/points/search` (legacy search)
 * - `POST /collections/{name}/points/query` (`query`: a vector or `{ nearest }`)
 * - `POST /collections/{name}/points/count`
 * Filters: `must` / `should` / `must_not`, nested filters, `has_id`, and
 * field conditions with `match: { value | any | except }`.
 */

export interface QdrantTestServer {
  url: string;
  /** `METHOD /path/{template}` of every request, in order. */
  readonly requests: string[];
  collectionNames(): string[];
  close(): Promise<void>;
}

type PointId = number | string;
type Payload = Record<string, unknown>;
type Distance = "Cosine" | "Dot" | "Euclid" | "Manhattan";

interface StoredPoint {
  id: PointId;
  vector: number[];
  payload: Payload;
  version: number;
}

interface Collection {
  size: number;
  distance: Distance;
  hnsw: { m: number; ef_construct: number };
  points: Map<string, StoredPoint>;
  payloadSchema: Map<string, string>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const badJson = (detail: string) => new HttpError(400, `Format error in JSON body: ${detail}`);
const notFound = (name: string) => new HttpError(404, `Not found: Collection \`${name}\` doesn't exist!`);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function pointId(value: unknown): PointId {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "string" && uuid.test(value)) return value.toLowerCase();
  throw badJson(
    `value ${JSON.stringify(value)} is not a valid point ID, valid values are either an unsigned integer or a UUID`,
  );
}

function numberArray(value: unknown, what: string): number[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw badJson(`${what} must be an array of numbers`);
  }
  return value as number[];
}

function normalised(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

function score(distance: Distance, a: number[], b: number[]): number {
  switch (distance) {
    case "Cosine":
    case "Dot":
      return a.reduce((s, x, i) => s + x * b[i]!, 0);
    case "Euclid":
      return Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0));
    case "Manhattan":
      return a.reduce((s, x, i) => s + Math.abs(x - b[i]!), 0);
  }
}

/** Higher is better for similarities, lower for distances (Qdrant sorts accordingly). */
const largerIsBetter = (distance: Distance) => distance === "Cosine" || distance === "Dot";

function matches(point: StoredPoint, condition: unknown): boolean {
  if (!isRecord(condition)) throw badJson("a condition must be an object");
  if ("must" in condition || "should" in condition || "must_not" in condition)
    return passes(point, condition);
  if ("has_id" in condition) {
    const ids = (condition.has_id as unknown[]).map(pointId);
    return ids.some((id) => String(id) === String(point.id));
  }
  if (typeof condition.key === "string" && isRecord(condition.match)) {
    const value = point.payload[condition.key];
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    const match = condition.match;
    if ("value" in match) return values.includes(match.value);
    if ("any" in match && Array.isArray(match.any))
      return values.some((v) => (match.any as unknown[]).includes(v));
    if ("except" in match && Array.isArray(match.except)) {
      return !values.some((v) => (match.except as unknown[]).includes(v));
    }
  }
  throw badJson(
    `unsupported condition ${JSON.stringify(condition)} (this test server knows match value/any/except, has_id and nested filters)`,
  );
}

function conditions(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function passes(point: StoredPoint, filter: unknown): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isRecord(filter)) throw badJson("filter must be an object");
  const must = conditions(filter.must);
  const should = conditions(filter.should);
  const mustNot = conditions(filter.must_not);
  return (
    must.every((c) => matches(point, c)) &&
    (should.length === 0 || should.some((c) => matches(point, c))) &&
    !mustNot.some((c) => matches(point, c))
  );
}

function selectPayload(payload: Payload, withPayload: unknown): Payload | undefined {
  if (withPayload === true) return payload;
  if (Array.isArray(withPayload)) {
    return Object.fromEntries(
      Object.entries(payload).filter(([k]) => (withPayload as unknown[]).includes(k)),
    );
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString("utf8");
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `Json deserialize error: ${(err as Error).message}`);
  }
}

export async function startQdrantTestServer(
  options: {
    apiKey?: string;
    version?: string;
    /** Serve under this path, as behind a reverse proxy. */
    basePath?: string;
  } = {},
): Promise<QdrantTestServer> {
  const collections = new Map<string, Collection>();
  const requests: string[] = [];
  let operationId = 0;
  const version = options.version ?? "1.19.0";

  const collectionOf = (name: string) => {
    const c = collections.get(name);
    if (!c) throw notFound(name);
    return c;
  };

  const updateResult = (url: URL) => ({
    operation_id: ++operationId,
    status: url.searchParams.get("wait") === "true" ? "completed" : "acknowledged",
  });

  const search = (c: Collection, body: Record<string, unknown>, vector: number[]) => {
    if (vector.length !== c.size) {
      throw new HttpError(
        400,
        `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${vector.length}`,
      );
    }
    const limit = body.limit ?? 10;
    const offset = body.offset ?? 0;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1) {
      throw new HttpError(
        422,
        "Validation error in JSON body: [limit: value 0 invalid, must be 1 or larger]",
      );
    }
    if (typeof offset !== "number" || !Number.isInteger(offset) || offset < 0)
      throw badJson("offset must be a whole number");
    const query = c.distance === "Cosine" ? normalised(vector) : vector;
    const better = largerIsBetter(c.distance);
    const threshold = typeof body.score_threshold === "number" ? body.score_threshold : undefined;
    const scored = [...c.points.values()]
      .filter((p) => passes(p, body.filter))
      .map((p) => ({ p, score: score(c.distance, query, p.vector) }))
      .filter((s) => threshold === undefined || (better ? s.score >= threshold : s.score <= threshold))
      .sort((a, b) => (better ? b.score - a.score : a.score - b.score));
    return scored.slice(offset, offset + limit).map(({ p, score: s }) => {
      const payload = selectPayload(p.payload, body.with_payload);
      return {
        id: p.id,
        version: p.version,
        score: s,
        ...(payload ? { payload } : {}),
        ...(body.with_vector === true ? { vector: p.vector } : {}),
      };
    });
  };

  type Handler = (params: string[], body: unknown, url: URL) => unknown;
  const routes: Array<{ method: string; pattern: RegExp; template: string; handler: Handler }> = [];
  const route = (method: string, template: string, handler: Handler) => {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]+)")}$`);
    routes.push({ method, pattern, template, handler });
  };

  route("GET", "/collections", () => ({ collections: [...collections.keys()].map((name) => ({ name })) }));

  route("GET", "/collections/{collection_name}", ([name]) => {
    const c = collectionOf(name!);
    return {
      status: "green",
      optimizer_status: "ok",
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: { size: c.size, distance: c.distance },
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: { ...c.hnsw, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
        optimizer_config: {
          deleted_threshold: 0.2,
          vacuum_min_vector_number: 1000,
          default_segment_number: 0,
          max_segment_size: null,
          memmap_threshold: null,
          indexing_threshold: 20000,
          flush_interval_sec: 5,
          max_optimization_threads: null,
        },
        wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
        quantization_config: null,
      },
      payload_schema: Object.fromEntries(
        [...c.payloadSchema].map(([field, type]) => [
          field,
          { data_type: type, points: [...c.points.values()].filter((p) => field in p.payload).length },
        ]),
      ),
    };
  });

  route("PUT", "/collections/{collection_name}", ([name], body) => {
    if (!isRecord(body) || !isRecord(body.vectors)) {
      throw badJson("this test server needs `vectors: { size, distance }` (one unnamed vector)");
    }
    const { size, distance } = body.vectors;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > 65536) {
      throw new HttpError(
        422,
        "Validation error in JSON body: [vectors.size: value 0 invalid, must be from 1 to 65536]",
      );
    }
    if (distance !== "Cosine" && distance !== "Dot" && distance !== "Euclid" && distance !== "Manhattan") {
      throw badJson(
        `vectors.distance: unknown variant \`${String(distance)}\`, expected one of \`Cosine\`, \`Euclid\`, \`Dot\`, \`Manhattan\``,
      );
    }
    if (collections.has(name!))
      throw new HttpError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const hnsw = isRecord(body.hnsw_config) ? body.hnsw_config : {};
    collections.set(name!, {
      size,
      distance,
      hnsw: {
        m: typeof hnsw.m === "number" ? hnsw.m : 16,
        ef_construct: typeof hnsw.ef_construct === "number" ? hnsw.ef_construct : 100,
      },
      points: new Map(),
      payloadSchema: new Map(),
    });
    return true;
  });

  route("DELETE", "/collections/{collection_name}", ([name]) => collections.delete(name!));

  route("GET", "/collections/{collection_name}/exists", ([name]) => ({ exists: collections.has(name!) }));

  route("PUT", "/collections/{collection_name}/index", ([name], body, url) => {
    const c = collectionOf(name!);
    if (!isRecord(body) || typeof body.field_name !== "string") throw badJson("missing field `field_name`");
    const schema = isRecord(body.field_schema) ? body.field_schema.type : body.field_schema;
    const known = ["keyword", "integer", "float", "bool", "geo", "datetime", "text", "uuid"];
    if (typeof schema !== "string" || !known.includes(schema)) {
      throw badJson(`field_schema: unknown variant \`${String(schema)}\``);
    }
    c.payloadSchema.set(body.field_name, schema);
    return updateResult(url);
  });

  route("PUT", "/collections/{collection_name}/points", ([name], body, url) => {
    const c = collectionOf(name!);
    if (!isRecord(body)) throw badJson("expected an object");
    let incoming: Array<{ id: unknown; vector: unknown; payload: unknown }>;
    if (Array.isArray(body.points)) {
      incoming = body.points.map((p) => {
        if (!isRecord(p)) throw badJson("a point must be an object");
        return { id: p.id, vector: p.vector, payload: p.payload };
      });
    } else if (isRecord(body.batch) && Array.isArray(body.batch.ids) && Array.isArray(body.batch.vectors)) {
      const { ids, vectors, payloads } = body.batch as {
        ids: unknown[];
        vectors: unknown[];
        payloads?: unknown[];
      };
      incoming = ids.map((id, i) => ({ id, vector: vectors[i], payload: payloads?.[i] }));
    } else {
      throw badJson("expected `points` or `batch`");
    }
    // Validate all first: Qdrant rejects the whole request.
    const parsed = incoming.map((p) => {
      const id = pointId(p.id);
      const vector = numberArray(p.vector, "vector");
      if (vector.length !== c.size) {
        throw new HttpError(
          400,
          `Wrong input: Vector dimension error: expected dim: ${c.size}, got ${vector.length}`,
        );
      }
      if (p.payload !== undefined && p.payload !== null && !isRecord(p.payload))
        throw badJson("payload must be an object");
      return { id, vector, payload: (p.payload ?? {}) as Payload };
    });
    const op = ++operationId;
    for (const p of parsed) {
      c.points.set(String(p.id), {
        id: p.id,
        vector: c.distance === "Cosine" ? normalised(p.vector) : p.vector,
        payload: p.payload,
        version: op,
      });
    }
    return {
      operation_id: op,
      status: url.searchParams.get("wait") === "true" ? "completed" : "acknowledged",
    };
  });

  route("POST", "/collections/{collection_name}/points/delete", ([name], body, url) => {
    const c = collectionOf(name!);
    if (!isRecord(body)) throw badJson("expected an object");
    if (Array.isArray(body.points)) {
      for (const id of body.points.map(pointId)) c.points.delete(String(id));
    } else if ("filter" in body) {
      for (const [key, p] of c.points) if (passes(p, body.filter)) c.points.delete(key);
    } else {
      throw badJson("expected `points` or `filter`");
    }
    return updateResult(url);
  });

  route("POST", "/collections/{collection_name}/points/search", ([name], body) => {
    const c = collectionOf(name!);
    if (!isRecord(body)) throw badJson("expected an object");
    return search(c, body, numberArray(body.vector, "vector"));
  });

  route("POST", "/collections/{collection_name}/points/query", ([name], body) => {
    const c = collectionOf(name!);
    if (!isRecord(body)) throw badJson("expected an object");
    if (body.prefetch !== undefined && body.prefetch !== null)
      throw badJson("prefetch is not supported by this test server");
    const query = isRecord(body.query) && "nearest" in body.query ? body.query.nearest : body.query;
    return { points: search(c, body, numberArray(query, "query (a dense vector)")) };
  });

  route("POST", "/collections/{collection_name}/points/count", ([name], body) => {
    const c = collectionOf(name!);
    const filter = isRecord(body) ? body.filter : undefined;
    return { count: [...c.points.values()].filter((p) => passes(p, filter)).length };
  });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const started = performance.now();
    const time = () => (performance.now() - started) / 1000;
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (options.basePath) {
        if (!url.pathname.startsWith(options.basePath)) {
          send(res, 404, { status: { error: `Not found: ${url.pathname}` }, time: time() });
          return;
        }
        url.pathname = url.pathname.slice(options.basePath.length) || "/";
      }
      const method = req.method ?? "GET";
      try {
        if (options.apiKey !== undefined) {
          const key = req.headers["api-key"] ?? req.headers.authorization?.replace(/^Bearer /i, "");
          if (!key) throw new HttpError(401, "Must provide an API key or an Authorization bearer token");
          if (key !== options.apiKey) throw new HttpError(403, "Invalid API key or JWT");
        }
        if (method === "GET" && url.pathname === "/") {
          requests.push("GET /");
          send(res, 200, { title: "qdrant - vector search engine", version, commit: null });
          return;
        }
        const body = await readJson(req);
        for (const r of routes) {
          const m = r.method === method ? r.pattern.exec(url.pathname) : null;
          if (!m) continue;
          requests.push(`${r.method} ${r.template}`);
          const result = r.handler(m.slice(1).map(decodeURIComponent), body, url);
          send(res, 200, { result, status: "ok", time: time() });
          return;
        }
        throw new HttpError(404, `Not found: ${method} ${url.pathname}`);
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        send(res, status, { status: { error: (err as Error).message }, time: time() });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ""}`,
    requests,
    collectionNames: () => [...collections.keys()],
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // The client keeps connections alive; cut them so close() returns now.
        server.closeAllConnections();
      }),
  };
}
