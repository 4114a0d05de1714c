import type { Logger } from "@conhub/utils";
import type { z } from "zod";
import type { SafeFetch } from "../net/safe-fetch.js";

/**
 * A connector turns one kind of source into a stream of changes. The sync
 * engine compares each item's `version` with what it last sent for that
 * path (its manifest), loads only what differs, and propagates deletions:
 * explicitly (a `delete` change), or, when the listing is `complete`, for
 * every path the listing did not mention.
 */

/** The content of one item, as the indexer will receive it. */
export interface LoadedItem {
  content: Uint8Array;
  mediaType?: string;
  metadata?: Record<string, unknown>;
  /** When the connector already extracted text (PDF, DOCX, HTML), the item is sent as UTF-8 text. */
  text?: boolean;
}

export type Change =
  | {
      type: "upsert";
      path: string;
      /** The connector's version of the item: equal versions mean equal content. */
      version: string;
      /** Bytes, when known before loading (lets the engine skip oversize items unread). */
      size?: number;
      load(): Promise<LoadedItem>;
    }
  | { type: "delete"; path: string }
  /** An item that exists but will not be indexed (kept, so its path is not taken for deleted). */
  | { type: "skip"; path: string; version: string; reason: string; size?: number }
  /** An item that could not be read this time (kept as it was; recorded in the run). */
  | { type: "error"; path: string; reason: string };

/** What the engine knows about a path (connectors use it for conditional requests). */
export interface KnownItem {
  version: string;
  hash: string | null;
}

export interface ChangeScope {
  /** `full`: list everything. `incremental`: what changed since `cursor` (connectors may list all). */
  mode: "full" | "incremental";
  cursor: string | null;
  /** Only these paths changed (a watcher or webhook said so); undefined: anything may have. */
  paths?: readonly string[];
  known(path: string): KnownItem | undefined;
  /** Reports how many items the listing will yield, once the connector knows (for progress and ETA). */
  total(items: number, bytes?: number): void;
  signal: AbortSignal;
}

/** Returned when the stream ends. */
export interface ListingEnd {
  /** Every existing item was yielded (upsert or skip): paths not mentioned are gone. */
  complete: boolean;
  /** The cursor to store once everything yielded is indexed. */
  cursor: string | null;
  /** Where the source lives, for listings (a URL or a path). */
  root?: string;
}

export interface ConnectorContext<C> {
  sourceId: string;
  config: C;
  credentials: Record<string, string> | undefined;
  /** A working folder of this source's own (clones, caches), kept between syncs. */
  workDir: string;
  logger: Logger;
  fetch: SafeFetch;
  /** The administrator's rules for local paths (git submodules on disk are checked against them). */
  env?: ConnectorEnv;
}

export interface Connector<C = unknown> {
  type: string;
  /** The configuration (validated at the API edge; a failure names `body.config.<field>`). */
  config: z.ZodType<C>;
  /** Credential fields the connector accepts (sealed at rest, never returned). */
  credentials?: z.ZodType<Record<string, string>>;
  /** Extra checks needing the environment (allowed roots…); returns problems as `{field, reason}`. */
  check?(config: C, env: ConnectorEnv): Array<{ field: string; reason: string }>;
  changes(ctx: ConnectorContext<C>, scope: ChangeScope): AsyncGenerator<Change, ListingEnd, void>;
  /** Where the source lives, shown in listings and given to the indexer. */
  root(config: C): string;
}

export interface ConnectorEnv {
  localRoots: readonly string[];
  /** Folders no local source may read or contain (ConHub's data dir). */
  forbiddenRoots: readonly string[];
  crawlMaxPages: number;
}

/** A failure the user can act on (bad URL, missing permission): the run fails at once, with this message. */
export class SourceError extends Error {
  override readonly name = "SourceError";
}
