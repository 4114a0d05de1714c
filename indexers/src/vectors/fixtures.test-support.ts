import {
  databaseUrl,
  openRelationalFromSpec,
  randomSuffix,
  reachableRelationalAdapters,
  tempDir,
} from "@conhub/storage/testing";
import { QdrantClient } from "@qdrant/js-client-rest";
import { afterAll, onTestFinished } from "vitest";
import type { VectorStore } from "../ports/vector-store.js";
import { openPgvectorStore } from "./pgvector.js";
import { openQdrantVectorStore } from "./qdrant.js";
import { type QdrantTestServer, startQdrantTestServer } from "./qdrant-server.test-support.js";
import { openUsearchVectorStore } from "./usearch.js";

/* Test-only: reads DATABASE_URL and QDRANT_URL to decide which adapters are reachable. */

/** One isolated backend (a folder, a schema, a collection prefix) for the current test. */
export interface VectorBackend {
  /** A new handle on the backend, closed after the test: a second call is another process's view of the same data. */
  open(): Promise<VectorStore>;
}

export interface VectorFixture {
  name: string;
  backend(): Promise<VectorBackend>;
}

function closing(store: VectorStore, after?: () => Promise<void>): VectorStore {
  onTestFinished(async () => {
    await store.close();
    await after?.();
  });
  return store;
}

/** usearch always; pgvector with DATABASE_URL; the local Qdrant stand-in always; a real Qdrant with QDRANT_URL. */
export function reachableVectorStores(): VectorFixture[] {
  const fixtures: VectorFixture[] = [
    {
      name: "usearch",
      backend: async () => {
        const dir = await tempDir("conhub-vectors-");
        return { open: async () => closing(await openUsearchVectorStore({ dir })) };
      },
    },
  ];

  const postgres = databaseUrl()
    ? reachableRelationalAdapters().find((a) => a.name === "postgres")
    : undefined;
  if (postgres) {
    fixtures.push({
      name: "pgvector",
      backend: async () => {
        // A database per test file (dropped after it), a schema per test.
        const spec = await postgres.backend();
        return {
          open: async () => {
            const relational = await openRelationalFromSpec(spec);
            try {
              return closing(await openPgvectorStore(relational), () => relational.close());
            } catch (err) {
              await relational.close();
              throw err;
            }
          },
        };
      },
    });
  }

  let server: Promise<QdrantTestServer> | undefined;
  afterAll(async () => {
    if (server) await (await server).close();
  });
  fixtures.push({
    name: "qdrant (local stand-in)",
    backend: async () => {
      server ??= startQdrantTestServer();
      const { url } = await server;
      const collectionPrefix = `t${randomSuffix()}`;
      return { open: async () => closing(await openQdrantVectorStore({ url, collectionPrefix })) };
    },
  });

  const qdrantUrl = process.env.QDRANT_URL || undefined;
  if (qdrantUrl) {
    const apiKey = process.env.QDRANT_API_KEY || undefined;
    fixtures.push({
      name: "qdrant",
      backend: async () => {
        const collectionPrefix = `conhub-test-${randomSuffix()}`;
        onTestFinished(async () => {
          const client = new QdrantClient({
            url: qdrantUrl,
            ...(apiKey ? { apiKey } : {}),
            checkCompatibility: false,
          });
          const { collections } = await client.getCollections();
          for (const c of collections) {
            if (c.name.startsWith(`${collectionPrefix}_`)) await client.deleteCollection(c.name);
          }
        });
        return {
          open: async () =>
            closing(
              await openQdrantVectorStore({
                url: qdrantUrl,
                ...(apiKey ? { apiKey } : {}),
                collectionPrefix,
              }),
            ),
        };
      },
    });
  }
  return fixtures;
}

// ---------------------------------------------------------------- vectors

export function unit(values: ArrayLike<number>): Float32Array {
  const v = Float32Array.from(values);
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}

/** Deterministic pseudo-random numbers (a linear congruential generator), so a failure can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Random unit vectors: Gaussian components (Box–Muller), normalised. */
export function randomUnitVectors(count: number, dimensions: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  return Array.from({ length: count }, () => unit(Array.from({ length: dimensions }, gaussian)));
}
