import { closeAfterTest } from "@conhub/storage/testing";
import { QdrantClient } from "@qdrant/js-client-rest";
import { describe, expect, it } from "vitest";
import { unit } from "./fixtures.test-support.js";
import { openQdrantVectorStore, qdrantCollectionName } from "./qdrant.js";
import { type QdrantTestServer, startQdrantTestServer } from "./qdrant-server.test-support.js";

/** Qdrant-specific behaviour, against the local stand-in (the contract suite covers the rest). */

async function server(options: Parameters<typeof startQdrantTestServer>[0] = {}): Promise<QdrantTestServer> {
  return closeAfterTest(await startQdrantTestServer(options));
}

const SPACE = { model: "local:Xenova/all-MiniLM-L6-v2", dimensions: 4 };

describe("Qdrant vector store", () => {
  it("keeps one collection per space and drops other spaces' collections under its prefix only", async () => {
    const qdrant = await server();
    const client = new QdrantClient({ url: qdrant.url, checkCompatibility: false });
    const foreign = qdrantCollectionName("other", SPACE);
    await client.createCollection(foreign, { vectors: { size: 4, distance: "Cosine" } });
    await client.createCollection("unrelated", { vectors: { size: 4, distance: "Dot" } });

    const store = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url, collectionPrefix: "p1" }));
    expect(await store.open(SPACE)).toEqual({ reset: true });
    const first = qdrantCollectionName("p1", SPACE);
    expect(first).toMatch(/^p1_[0-9a-f]{12}_4$/);
    const info = await client.getCollection(first);
    expect(info.config.params.vectors).toEqual({ size: 4, distance: "Cosine" });
    expect(info.payload_schema.sourceId).toMatchObject({ data_type: "keyword" });

    await store.upsert([{ chunkId: 1, sourceId: "s", vector: unit([1, 0, 0, 0]) }]);
    const wider = { model: SPACE.model, dimensions: 8 };
    expect(await store.open(wider)).toEqual({ reset: true });
    expect(qdrant.collectionNames().sort()).toEqual(
      [foreign, qdrantCollectionName("p1", wider), "unrelated"].sort(),
    );

    // A second handle finds the collection and keeps it.
    const again = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url, collectionPrefix: "p1" }));
    expect(await again.open(wider)).toEqual({ reset: false });
  });

  it("sends the API key, and says which setting to check when it is missing or wrong", async () => {
    const qdrant = await server({ apiKey: "s3cret-key" });
    const none = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url }));
    await expect(none.open(SPACE)).rejects.toThrow(
      /QDRANT_URL\) failed to answer \(GET \/\): HTTP 401.*check QDRANT_API_KEY/,
    );
    const wrong = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url, apiKey: "nope" }));
    const error = await wrong.open(SPACE).catch((e: Error) => e);
    expect(String(error)).toMatch(/HTTP 403.*QDRANT_API_KEY/);
    expect(String(error)).not.toContain("nope");
    const right = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url, apiKey: "s3cret-key" }));
    expect(await right.open(SPACE)).toEqual({ reset: true });
  });

  it("names QDRANT_URL, without its password, when the server is unreachable", async () => {
    const gone = await startQdrantTestServer();
    await gone.close();
    const url = gone.url.replace("http://", "http://user:hunter2@");
    const store = closeAfterTest(await openQdrantVectorStore({ url }));
    const error = await store.open(SPACE).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /Qdrant at http:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/ \(QDRANT_URL\) failed to answer.*ECONNREFUSED.*CONHUB_VECTOR_STORE=usearch/,
    );
    expect(String(error)).not.toContain("hunter2");
    await expect(openQdrantVectorStore({ url: "localhost:6333" })).rejects.toThrow(
      /QDRANT_URL must be an http/,
    );
  });

  it("reaches a server under a path, as behind a reverse proxy", async () => {
    const qdrant = await server({ basePath: "/qdrant" });
    expect(qdrant.url).toMatch(/\/qdrant$/);
    const store = closeAfterTest(await openQdrantVectorStore({ url: `${qdrant.url}/` }));
    expect(await store.open(SPACE)).toEqual({ reset: true });
    await store.upsert([{ chunkId: 3, sourceId: "s", vector: unit([0, 0, 1, 0]) }]);
    expect(await store.search(unit([0, 0, 1, 0]), { limit: 1 })).toEqual([{ chunkId: 3, score: 1 }]);
  });

  it("passes on Qdrant's own message when a request fails", async () => {
    const qdrant = await server();
    const store = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url }));
    await store.open(SPACE);
    const client = new QdrantClient({ url: qdrant.url, checkCompatibility: false });
    await client.deleteCollection(qdrantCollectionName("conhub", SPACE));
    await expect(store.upsert([{ chunkId: 1, sourceId: "s", vector: unit([1, 0, 0, 0]) }])).rejects.toThrow(
      /failed to store 1 vectors in conhub_[0-9a-f]{12}_4: HTTP 404: Not found: Collection `conhub_[0-9a-f]{12}_4` doesn't exist!/,
    );
  });

  it("uses these Qdrant endpoints and no others", async () => {
    const qdrant = await server();
    const store = closeAfterTest(await openQdrantVectorStore({ url: qdrant.url, collectionPrefix: "e" }));
    await store.open(SPACE);
    await store.upsert([
      { chunkId: 1, sourceId: "s", vector: unit([1, 0, 0, 0]) },
      { chunkId: 2, sourceId: "t", vector: unit([0, 1, 0, 0]) },
    ]);
    await store.search(unit([1, 1, 0, 0]), { limit: 2 });
    expect(
      (await store.search(unit([1, 1, 0, 0]), { limit: 2, sourceIds: ["t"] })).map((h) => h.chunkId),
    ).toEqual([2]);
    await store.delete([1]);
    expect(await store.count()).toBe(1);
    await store.open({ model: "other", dimensions: 4 });
    expect([...new Set(qdrant.requests)].sort()).toEqual(
      [
        "GET /",
        "GET /collections",
        "GET /collections/{collection_name}/exists",
        "PUT /collections/{collection_name}",
        "PUT /collections/{collection_name}/index",
        "PUT /collections/{collection_name}/points",
        "POST /collections/{collection_name}/points/query",
        "POST /collections/{collection_name}/points/delete",
        "POST /collections/{collection_name}/points/count",
        "DELETE /collections/{collection_name}",
      ].sort(),
    );
  });
});

describe("Qdrant stand-in", () => {
  it("answers in Qdrant's envelope, and with Qdrant's errors", async () => {
    const qdrant = await server();
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${qdrant.url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const root = await call("GET", "/");
    expect(root).toMatchObject({ status: 200, body: { title: "qdrant - vector search engine" } });
    const list = await call("GET", "/collections");
    expect(list.body).toMatchObject({ result: { collections: [] }, status: "ok" });
    expect(typeof list.body.time).toBe("number");
    expect(await call("PUT", "/collections/c", { vectors: { size: 2, distance: "Cosine" } })).toMatchObject({
      status: 200,
      body: { result: true, status: "ok" },
    });
    expect(await call("PUT", "/collections/c", { vectors: { size: 2, distance: "Cosine" } })).toMatchObject({
      status: 409,
      body: { status: { error: "Wrong input: Collection `c` already exists!" } },
    });
    expect(
      await call("PUT", "/collections/c/points?wait=true", { points: [{ id: 1, vector: [1, 0, 0] }] }),
    ).toMatchObject({
      status: 400,
      body: { status: { error: "Wrong input: Vector dimension error: expected dim: 2, got 3" } },
    });
    expect(
      await call("PUT", "/collections/c/points?wait=true", {
        points: [
          { id: 1, vector: [3, 4], payload: { k: "a" } },
          { id: "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector: [0, 1], payload: { k: "b" } },
        ],
      }),
    ).toMatchObject({ status: 200, body: { result: { status: "completed" } } });
    const query = await call("POST", "/collections/c/points/query", {
      query: [1, 0],
      limit: 5,
      with_payload: true,
      filter: { must_not: [{ key: "k", match: { value: "b" } }] },
    });
    expect(query.body.result).toEqual({
      points: [{ id: 1, version: expect.any(Number), score: 0.6, payload: { k: "a" } }],
    });
    expect(await call("POST", "/collections/missing/points/count", {})).toMatchObject({
      status: 404,
      body: { status: { error: "Not found: Collection `missing` doesn't exist!" } },
    });
  });
});
