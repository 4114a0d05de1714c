import { join } from "node:path";
import { masterSecretProblems } from "@conhub/config";
import {
  createAuthVerifier,
  createTargetApp,
  defineTarget,
  loadServiceMasterSecret,
} from "@conhub/middleware";
import type { Kysely } from "kysely";
import { type DataConfig, dataConfigShape } from "./config.js";
import type { Connector } from "./connectors/connector.js";
import { gitConnector } from "./connectors/git.js";
import { localConnector } from "./connectors/local.js";
import { uploadConnector } from "./connectors/upload.js";
import { webConnector } from "./connectors/web.js";
import type { DataDatabase } from "./db/schema.js";
import { internalRoutes } from "./http/internal.js";
import { dataRoutes, UPLOAD_FORM_OVERHEAD_BYTES, UPLOAD_ROUTE, uploadTooLarge } from "./http/routes.js";
import { dataMigrations } from "./migrations/index.js";
import { safeFetch } from "./net/safe-fetch.js";
import { loadDataSecretBox } from "./secrets.js";
import { createSyncEngine, SYNC_LEASE_MS } from "./sync/engine.js";
import { SyncEvents } from "./sync/events.js";
import { SYNC_QUEUE, type SyncJobPayload } from "./sync/model.js";
import { busPublisher } from "./sync/publish.js";
import { startScheduler } from "./sync/scheduler.js";
import { startWatchers } from "./sync/watchers.js";

/**
 * The data-service target: sources (local folder, git, web, upload) per
 * organization, and the sync engine that keeps the index equal to each
 * source — jobs on the durable queue, resumed after a crash, documents and
 * deletions sent to the indexer as index jobs. Routes under `/api/data`.
 */
export const dataServiceTarget = defineTarget({
  name: "data-service",
  configShape: dataConfigShape,
  capabilities: {
    summary:
      "Sources per organization (local folder with a file watcher, git repository by URL or path (submodules on request), web crawler, uploads of PDF/DOCX/HTML/Markdown/text/code) and a sync engine on the durable queue: full and incremental syncs (on demand, on a schedule, on file changes), one at a time per source, resumed after a crash, progress and run history with per-item errors, streamed over SSE; documents and deletions go to the indexer, and a run is done when they are searchable.",
    available: [
      "POST/GET /api/data/sources, GET/PATCH/DELETE /api/data/sources/:id",
      "POST /api/data/sources/:id/sync ({mode, paths})",
      "GET /api/data/sources/:id/runs, GET /api/data/sources/:id/runs/:runId",
      "GET /api/data/sources/:id/events (SSE)",
      "GET /api/data/sources/:id/documents, GET /api/data/sources/:id/document?path=",
      "POST/GET/DELETE /api/data/sources/:id/files (upload sources)",
      "GET /health, /ready, /info, /metrics",
    ],
    planned: [
      "GitHub/GitLab/Bitbucket issues and pull requests, Google Drive, Dropbox (a later issue)",
      "webhook-triggered syncs (issue 7, webhook service)",
    ],
    issue: 5,
  },
  uses: ["relational", "queue", "blobs", "bus"],
  migrations: dataMigrations,
  validateConfig: masterSecretProblems,
  async init(ctx) {
    const config = ctx.config as DataConfig;
    const app = await createTargetApp(ctx, this, {
      isStreamingPath: (p) => p.endsWith("/events"),
      // Uploads may be larger than HTTP_BODY_LIMIT_BYTES: up to DATA_UPLOAD_MAX_BYTES of files, plus the form's framing.
      bodyLimits: [
        {
          method: "POST",
          path: UPLOAD_ROUTE,
          bytes: config.DATA_UPLOAD_MAX_BYTES + UPLOAD_FORM_OVERHEAD_BYTES,
          exceeded: () => uploadTooLarge(config.DATA_UPLOAD_MAX_BYTES),
        },
      ],
    });
    const store = await ctx.storage.relational();
    const db = store.db as Kysely<DataDatabase>;
    const queue = await ctx.storage.queue();
    const blobs = () => ctx.storage.blobs();
    const box = await loadDataSecretBox(config.JWT_SECRET, config.CONHUB_DATA_DIR);
    const events = new SyncEvents();
    // Platform events for outbound webhooks (topic conhub.events); a failing bus never fails a sync.
    const publish = busPublisher(() => ctx.storage.bus(), ctx.logger);
    let watchers: ReturnType<typeof startWatchers> | undefined;
    const network = config.DATA_ALLOW_PRIVATE_NETWORKS;
    const connectors: Record<string, Connector<unknown>> = {
      local: localConnector as Connector<unknown>,
      git: gitConnector({ network }) as Connector<unknown>,
      web: webConnector({ network, maxPages: config.DATA_CRAWL_MAX_PAGES }) as Connector<unknown>,
      upload: uploadConnector(blobs) as Connector<unknown>,
    };
    const connectorEnv = {
      localRoots: config.DATA_LOCAL_ROOTS,
      forbiddenRoots: [config.CONHUB_DATA_DIR],
      crawlMaxPages: config.DATA_CRAWL_MAX_PAGES,
    };
    const verifier = createAuthVerifier({
      fetch: ctx.services["auth-service"],
      cache: await ctx.storage.cache(),
    });
    app.route(
      "/api/data",
      dataRoutes({
        db,
        dialect: store.dialect,
        queue,
        box,
        blobs,
        events,
        connectors,
        connectorEnv,
        verifier,
        indexer: ctx.services.indexer,
        dataDir: config.CONHUB_DATA_DIR,
        uploadMaxBytes: config.DATA_UPLOAD_MAX_BYTES,
        logger: ctx.logger,
        sourcesChanged: () => void watchers?.refresh().catch(() => undefined),
        publish,
      }),
    );
    // For other services only (the webhook service); not routed by the gateway.
    app.route(
      "/internal",
      internalRoutes({
        db,
        dialect: store.dialect,
        queue,
        box,
        serviceSecret: await loadServiceMasterSecret(config.JWT_SECRET, config.CONHUB_DATA_DIR),
      }),
    );
    const engine = createSyncEngine({
      db,
      dialect: store.dialect,
      queue,
      box,
      logger: ctx.logger,
      connectors,
      connectorEnv,
      fetch: safeFetch,
      dataDir: join(config.CONHUB_DATA_DIR),
      events,
      publish,
    });
    const worker = queue.work<SyncJobPayload>(SYNC_QUEUE, engine.handle, {
      concurrency: config.DATA_SYNC_CONCURRENCY,
      leaseMs: SYNC_LEASE_MS,
    });
    const scheduler = startScheduler({ db, dialect: store.dialect, queue, logger: ctx.logger });
    watchers = startWatchers({ db, dialect: store.dialect, queue, logger: ctx.logger });
    return {
      fetch: app.fetch,
      async stop() {
        scheduler.stop();
        await watchers?.stop();
        await worker.stop(5000);
      },
    };
  },
});
