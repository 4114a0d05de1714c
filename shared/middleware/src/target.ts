import type {
  ConfigProblem,
  coreEnv,
  EnvShape,
  gatewayEnv,
  httpEnv,
  storageEnv,
  TargetName,
} from "@conhub/config";
import type { Capabilities } from "@conhub/models";
import type { BlobStore, Cache, EventBus, JobQueue, RateLimiter, RelationalStore } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import type { Migration } from "kysely";
import type { z } from "zod";
import type { FetchHandler, ServiceFetch } from "./service-fetch.js";

type Out<S extends EnvShape> = z.output<z.ZodObject<S>>;

/** The platform variables every target gets, already parsed, plus resolved ports and peer URLs. */
export type PlatformConfig = Out<typeof coreEnv> &
  Out<typeof httpEnv> &
  Out<typeof storageEnv> &
  Out<typeof gatewayEnv> & {
    ports: Record<TargetName, number>;
    urls: Record<TargetName, string>;
  };

/**
 * Storage handed to a target by the composition root. Each getter opens the
 * adapter chosen by configuration (embedded or external) on first use; the
 * root closes them all on shutdown.
 */
export interface TargetStorage {
  /** The target's own relational store, with its migrations applied. */
  relational(): Promise<RelationalStore>;
  cache(): Promise<Cache>;
  rateLimiter(): Promise<RateLimiter>;
  queue(): Promise<JobQueue>;
  bus(): Promise<EventBus>;
  blobs(): Promise<BlobStore>;
}

export interface TargetContext<C = PlatformConfig> {
  config: C;
  logger: Logger;
  version: string;
  storage: TargetStorage;
  /** How to reach every target: in-process when it runs here, HTTP otherwise. */
  services: Record<TargetName, ServiceFetch>;
  mode: "one-process" | "split";
}

export interface TargetInstance {
  /** The target's HTTP app (a Hono app's `fetch`). */
  fetch: FetchHandler;
  /** Stops background work (workers requeue unfinished jobs). Storage is closed by the root afterwards. */
  stop?(): Promise<void>;
}

/**
 * A target of `conhub start --target …`. Registered in `cli/`, which parses
 * configuration, builds storage, calls `init` and serves the app on `port`.
 */
export interface TargetModule<S extends EnvShape = EnvShape> {
  name: TargetName;
  /** The target's own environment variables (platform variables are always parsed). */
  configShape: S;
  capabilities: Capabilities;
  /** Which storage ports it uses; `/ready` and `conhub doctor` check these. */
  uses: ReadonlyArray<keyof TargetStorage>;
  /** Its relational migrations, applied by `conhub migrate` and at start. */
  migrations: Record<string, Migration>;
  /** Cross-variable checks beyond the schema (e.g. secrets strong enough in production). */
  validateConfig?(config: PlatformConfig & Out<S>): ConfigProblem[];
  init(ctx: TargetContext<PlatformConfig & Out<S>>): Promise<TargetInstance>;
}

export function defineTarget<S extends EnvShape>(module: TargetModule<S>): TargetModule<S> {
  return module;
}
