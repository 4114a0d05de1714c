import { rm } from "node:fs/promises";
import { detectLanguage, INDEX_QUEUE, IndexJobPayload } from "@conhub/indexer";
import {
  type AuthEnv,
  type AuthVerifier,
  authenticate,
  callerOrganization,
  jsonBody,
  pathParams,
  principalOf,
  queryParams,
  requireScope,
  type ServiceFetch,
} from "@conhub/middleware";
import type { BlobStore, Dialect, JobQueue } from "@conhub/storage";
import { AppError, errors, type Logger, type SecretBox } from "@conhub/utils";
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { Kysely } from "kysely";
import type { Connector, ConnectorEnv } from "../connectors/connector.js";
import { isIndexablePath } from "../connectors/paths.js";
import { uploadPrefix } from "../connectors/upload.js";
import type { DataDatabase } from "../db/schema.js";
import { newWebhookSecret } from "../secrets.js";
import {
  CreateSourceBody,
  DocumentQuery,
  DocumentsQuery,
  PatchSourceBody,
  RunParams,
  RunsQuery,
  SourceParams,
  SyncBody,
} from "../sources/schemas.js";
import { newId, sourceWorkDir } from "../sync/engine.js";
import type { SyncEvents } from "../sync/events.js";
import type { EventPublisher } from "../sync/publish.js";
import { requestSync } from "../sync/requests.js";
import { publicRun, publicSource } from "./public.js";

export interface DataRoutesDeps {
  db: Kysely<DataDatabase>;
  dialect: Dialect;
  queue: JobQueue;
  box: SecretBox;
  blobs: () => Promise<BlobStore>;
  events: SyncEvents;
  connectors: Record<string, Connector<unknown>>;
  connectorEnv: ConnectorEnv;
  verifier: AuthVerifier;
  indexer: ServiceFetch;
  dataDir: string;
  uploadMaxBytes: number;
  logger: Logger;
  /** Called after a source is created, changed or deleted (the file watchers follow). */
  sourcesChanged?: () => void;
  /** Platform events (outbound webhooks): source.created, source.deleted. */
  publish?: EventPublisher;
}

const nowIso = () => new Date().toISOString();
const later = (minutes: number | null) =>
  minutes === null ? null : new Date(Date.now() + minutes * 60_000).toISOString();

/** File types an upload source accepts: documents we extract text from, and text or code. */
/** The upload route (its own body limit: `DATA_UPLOAD_MAX_BYTES` plus the form's framing). */
export const UPLOAD_ROUTE = /^\/api\/data\/sources\/[^/]+\/files\/?$/;
export const UPLOAD_FORM_OVERHEAD_BYTES = 64 * 1024;

/** 413 for an upload over `DATA_UPLOAD_MAX_BYTES`, naming the limit. */
export function uploadTooLarge(maxBytes: number): AppError {
  return new AppError(
    "payload_too_large",
    `The uploaded files exceed the limit of ${maxBytes} bytes per request (DATA_UPLOAD_MAX_BYTES).`,
  );
}

const UPLOAD_DOCUMENTS =
  /\.(pdf|docx|html?|xhtml|md|markdown|mdx|txt|text|rst|adoc|csv|tsv|json|ya?ml|toml|xml)$/i;

function fieldError(message: string, fields: Array<{ field: string; reason: string }>): AppError {
  return errors.unprocessable(message, fields);
}

/** The data service's API under `/api/data` (every route needs a ConHub API key or access token). */
export function dataRoutes(deps: DataRoutesDeps): Hono<AuthEnv> {
  const { db, queue, box } = deps;
  const syncDeps = { db, dialect: deps.dialect, queue };
  const app = new Hono<AuthEnv>();
  app.use("*", authenticate({ verifier: deps.verifier }));

  const ownSource = async (orgId: string, id: string) => {
    const source = await db
      .selectFrom("sources")
      .selectAll()
      .where("id", "=", id)
      .where("organization_id", "=", orgId)
      .executeTakeFirst();
    if (!source) throw errors.notFound(`Source ${id}`);
    return source;
  };
  const runOf = (id: string | null) =>
    id
      ? db.selectFrom("sync_runs").selectAll().where("id", "=", id).executeTakeFirst()
      : Promise.resolve(undefined);

  const sealCredentials = (id: string, connector: Connector<unknown>, raw: unknown) => {
    if (!connector.credentials) {
      throw fieldError("This type of source takes no credentials.", [
        { field: "body.credentials", reason: `a ${connector.type} source has no credentials` },
      ]);
    }
    const parsed = connector.credentials.safeParse(raw);
    if (!parsed.success) {
      throw fieldError(
        "The credentials are not valid.",
        parsed.error.issues.map((i) => ({
          field: ["body", "credentials", ...i.path.map(String)].join("."),
          reason: i.message,
        })),
      );
    }
    return box.seal(JSON.stringify(parsed.data), `source:${id}:credentials`);
  };

  app.post("/sources", requireScope("sources:write"), jsonBody(CreateSourceBody), async (c) => {
    const body = c.req.valid("json");
    const principal = principalOf(c);
    const connector = deps.connectors[body.type]!;
    const problems = connector.check?.(body.config, deps.connectorEnv) ?? [];
    if (problems.length > 0) {
      throw fieldError(
        "The source's configuration cannot be used.",
        problems.map((p) => ({ field: `body.${p.field}`, reason: p.reason })),
      );
    }
    const id = newId("src");
    const credentials =
      "credentials" in body && body.credentials ? sealCredentials(id, connector, body.credentials) : null;
    const now = nowIso();
    const row = {
      id,
      organization_id: principal.organizationId,
      type: body.type,
      name: body.name,
      config: JSON.stringify(body.config),
      credentials,
      include: JSON.stringify(body.include),
      exclude: JSON.stringify(body.exclude),
      schedule_minutes: body.scheduleMinutes,
      next_sync_at: later(body.scheduleMinutes),
      status: "idle",
      status_message: null,
      webhook_secret: box.seal(newWebhookSecret(), `source:${id}:webhook`),
      cursor: null,
      pending_request: null,
      sync_owner: null,
      sync_lease_until: null,
      current_run_id: null,
      last_run_id: null,
      created_by: principal.userId,
      created_at: now,
      updated_at: now,
    };
    await db.insertInto("sources").values(row).execute();
    if (body.sync && body.type !== "upload") {
      await requestSync(syncDeps, id, { mode: "full", trigger: "create" });
    }
    const source = await ownSource(principal.organizationId, id);
    deps.sourcesChanged?.();
    await deps.publish?.publish("source.created", principal.organizationId, {
      sourceId: id,
      type: body.type,
      name: body.name,
      createdBy: principal.userId,
    });
    return c.json({ source: publicSource(source, { box, principal }) }, 201);
  });

  app.get("/sources", requireScope("sources:read"), async (c) => {
    const principal = principalOf(c);
    const rows = await db
      .selectFrom("sources")
      .selectAll()
      .where("organization_id", "=", principal.organizationId)
      .orderBy("created_at", "desc")
      .execute();
    const sources = [];
    for (const row of rows) {
      sources.push(
        publicSource(row, {
          box,
          principal,
          lastRun: await runOf(row.last_run_id),
          currentRun: await runOf(row.current_run_id),
        }),
      );
    }
    return c.json({ sources });
  });

  app.get("/sources/:id", requireScope("sources:read"), pathParams(SourceParams), async (c) => {
    const principal = principalOf(c);
    const source = await ownSource(principal.organizationId, c.req.valid("param").id);
    return c.json({
      source: publicSource(source, {
        box,
        principal,
        lastRun: await runOf(source.last_run_id),
        currentRun: await runOf(source.current_run_id),
      }),
    });
  });

  app.patch(
    "/sources/:id",
    requireScope("sources:write"),
    pathParams(SourceParams),
    jsonBody(PatchSourceBody),
    async (c) => {
      const principal = principalOf(c);
      const source = await ownSource(principal.organizationId, c.req.valid("param").id);
      const body = c.req.valid("json");
      const connector = deps.connectors[source.type]!;
      const changes: Record<string, unknown> = { updated_at: nowIso() };
      let resync = false;
      if (body.name !== undefined) changes.name = body.name;
      if (body.config !== undefined) {
        const merged = { ...(JSON.parse(source.config) as Record<string, unknown>), ...body.config };
        const parsed = connector.config.safeParse(merged);
        if (!parsed.success) {
          throw fieldError(
            "The source's configuration is not valid.",
            parsed.error.issues.map((i) => ({
              field: ["body", "config", ...i.path.map(String)].join("."),
              reason: i.message,
            })),
          );
        }
        const problems = connector.check?.(parsed.data, deps.connectorEnv) ?? [];
        if (problems.length > 0) {
          throw fieldError(
            "The source's configuration cannot be used.",
            problems.map((p) => ({ field: `body.${p.field}`, reason: p.reason })),
          );
        }
        changes.config = JSON.stringify(parsed.data);
        resync = true;
      }
      if (body.credentials !== undefined) {
        changes.credentials =
          body.credentials === null ? null : sealCredentials(source.id, connector, body.credentials);
        resync = true;
      }
      if (body.include !== undefined) {
        changes.include = JSON.stringify(body.include);
        resync = true;
      }
      if (body.exclude !== undefined) {
        changes.exclude = JSON.stringify(body.exclude);
        resync = true;
      }
      if (body.scheduleMinutes !== undefined) {
        changes.schedule_minutes = body.scheduleMinutes;
        changes.next_sync_at = later(body.scheduleMinutes);
      }
      await db.updateTable("sources").set(changes).where("id", "=", source.id).execute();
      if (resync) await requestSync(syncDeps, source.id, { mode: "full", trigger: "config" });
      deps.sourcesChanged?.();
      const updated = await ownSource(principal.organizationId, source.id);
      return c.json({
        source: publicSource(updated, {
          box,
          principal,
          lastRun: await runOf(updated.last_run_id),
          currentRun: await runOf(updated.current_run_id),
        }),
      });
    },
  );

  app.delete("/sources/:id", requireScope("sources:write"), pathParams(SourceParams), async (c) => {
    const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
    await db.transaction().execute(async (tx) => {
      await tx.deleteFrom("source_items").where("source_id", "=", source.id).execute();
      const runs = tx.selectFrom("sync_runs").select("id").where("source_id", "=", source.id);
      await tx.deleteFrom("sync_run_items").where("run_id", "in", runs).execute();
      await tx.deleteFrom("sync_batches").where("source_id", "=", source.id).execute();
      await tx.deleteFrom("sync_runs").where("source_id", "=", source.id).execute();
      await tx.deleteFrom("sources").where("id", "=", source.id).execute();
    });
    // Every index drops the source's documents; a second sweep a minute later catches a
    // batch a sync still had in flight when the source was deleted.
    const drop = IndexJobPayload.parse({
      orgId: source.organization_id,
      sourceId: source.id,
      deleteSource: true,
    });
    await queue.enqueue(INDEX_QUEUE, drop, { maxAttempts: 10 });
    await queue.enqueue(INDEX_QUEUE, drop, { maxAttempts: 10, delayMs: 60_000 });
    deps.sourcesChanged?.();
    await rm(sourceWorkDir(deps.dataDir, source.id), { recursive: true, force: true });
    if (source.type === "upload") {
      const blobs = await deps.blobs();
      for await (const info of blobs.list(uploadPrefix(source.id))) await blobs.delete(info.key);
    }
    await deps.publish?.publish("source.deleted", source.organization_id, {
      sourceId: source.id,
      type: source.type,
      name: source.name,
      deletedBy: principalOf(c).userId,
    });
    return c.body(null, 204);
  });

  app.post(
    "/sources/:id/sync",
    requireScope("sources:write"),
    pathParams(SourceParams),
    jsonBody(SyncBody),
    async (c) => {
      const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
      const body = c.req.valid("json");
      const bad = (body.paths ?? []).findIndex((p) => !isIndexablePath(p));
      if (bad >= 0) {
        throw fieldError("The paths are not valid.", [
          { field: `body.paths.${bad}`, reason: "must be a relative path of plain segments separated by /" },
        ]);
      }
      const queued = await requestSync(syncDeps, source.id, {
        mode: body.mode,
        trigger: body.trigger,
        ...(body.paths ? { paths: body.paths } : {}),
      });
      if (!queued) throw errors.notFound(`Source ${source.id}`);
      return c.json(
        { queued: true, jobId: queued.jobId, events: `/api/data/sources/${source.id}/events` },
        202,
      );
    },
  );

  app.get(
    "/sources/:id/runs",
    requireScope("sources:read"),
    pathParams(SourceParams),
    queryParams(RunsQuery),
    async (c) => {
      const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
      const q = c.req.valid("query");
      let query = db.selectFrom("sync_runs").selectAll().where("source_id", "=", source.id);
      if (q.before) query = query.where("started_at", "<", q.before);
      const runs = await query.orderBy("started_at", "desc").orderBy("id", "desc").limit(q.limit).execute();
      return c.json({
        runs: runs.map(publicRun),
        ...(runs.length === q.limit ? { next: runs[runs.length - 1]!.started_at } : {}),
      });
    },
  );

  app.get("/sources/:id/runs/:runId", requireScope("sources:read"), pathParams(RunParams), async (c) => {
    const params = c.req.valid("param");
    const source = await ownSource(callerOrganization(c), params.id);
    const run = await db
      .selectFrom("sync_runs")
      .selectAll()
      .where("id", "=", params.runId)
      .where("source_id", "=", source.id)
      .executeTakeFirst();
    if (!run) throw errors.notFound(`Run ${params.runId}`);
    const items = await db
      .selectFrom("sync_run_items")
      .select(["path", "kind", "reason", "created_at"])
      .where("run_id", "=", run.id)
      .orderBy("path")
      .limit(1000)
      .execute();
    return c.json({
      run: publicRun(run),
      items: items.map((i) => ({ path: i.path, kind: i.kind, reason: i.reason, at: i.created_at })),
    });
  });

  /** Server-sent events: `run` with the current or last run whenever it changes; a comment every 15 s. */
  app.get("/sources/:id/events", requireScope("sources:read"), pathParams(SourceParams), async (c) => {
    const orgId = callerOrganization(c);
    const id = c.req.valid("param").id;
    await ownSource(orgId, id);
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | undefined;
      const unsubscribe = deps.events.subscribe(id, () => wake?.());
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      let last = "";
      let idle = 0;
      try {
        while (!stream.aborted) {
          const source = await db.selectFrom("sources").selectAll().where("id", "=", id).executeTakeFirst();
          if (!source) {
            await stream.writeSSE({ event: "deleted", data: JSON.stringify({ sourceId: id }) });
            return;
          }
          const run = await runOf(source.current_run_id ?? source.last_run_id);
          const payload = JSON.stringify({
            sourceId: id,
            status: source.status,
            statusMessage: source.status_message,
            run: run ? publicRun(run) : null,
          });
          if (payload !== last) {
            last = payload;
            idle = 0;
            await stream.writeSSE({
              event: "run",
              data: payload,
              ...(run ? { id: `${run.id}:${run.updated_at}` } : {}),
            });
          } else if (++idle % 30 === 0) {
            await stream.write(": keep-alive\n\n");
          }
          // Woken by this process's sync at once; a sync in another process is seen within 500 ms.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 500);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } finally {
        unsubscribe();
      }
    });
  });

  // ---------------------------------------------------------------- documents (through the indexer)

  const forward = async (c: { req: { header(name: string): string | undefined } }, path: string) => {
    const res = await deps.indexer(path, {
      headers: { authorization: c.req.header("authorization") ?? "" },
    });
    const text = await res.text();
    if (res.status === 404) return { status: 404 as const, body: undefined };
    if (!res.ok) throw errors.upstream("indexer", `answered ${res.status}: ${text.slice(0, 300)}`);
    return { status: 200 as const, body: JSON.parse(text) as Record<string, unknown> };
  };

  app.get(
    "/sources/:id/documents",
    requireScope("sources:read"),
    pathParams(SourceParams),
    queryParams(DocumentsQuery),
    async (c) => {
      const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
      const q = c.req.valid("query");
      const params = new URLSearchParams({ sourceId: source.id, limit: String(q.limit) });
      if (q.prefix) params.set("prefix", q.prefix);
      if (q.after) params.set("after", q.after);
      const res = await forward(c, `/indexer/api/documents?${params}`);
      // Not in the index yet (no sync finished): an empty listing.
      return c.json(res.body ?? { documents: [] });
    },
  );

  app.get(
    "/sources/:id/document",
    requireScope("sources:read"),
    pathParams(SourceParams),
    queryParams(DocumentQuery),
    async (c) => {
      const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
      const params = new URLSearchParams({ sourceId: source.id, path: c.req.valid("query").path });
      const res = await forward(c, `/indexer/api/document?${params}`);
      if (!res.body) throw errors.notFound(`Document ${c.req.valid("query").path}`);
      return c.json(res.body);
    },
  );

  // ---------------------------------------------------------------- uploads

  app.post("/sources/:id/files", requireScope("sources:write"), pathParams(SourceParams), async (c) => {
    const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
    if (source.type !== "upload") {
      throw errors.conflict(
        `Source ${source.id} is a ${source.type} source; files can only be uploaded to an upload source.`,
      );
    }
    const type = c.req.header("content-type") ?? "";
    if (!type.startsWith("multipart/form-data")) {
      throw new AppError(
        "unsupported_media_type",
        "Send the files as multipart/form-data (curl -F file=@report.pdf).",
      );
    }
    const form = await c.req.parseBody({ all: true });
    const folder = typeof form.folder === "string" ? form.folder.replace(/^\/+|\/+$/g, "") : "";
    const raw = form.file ?? form["file[]"];
    const files = (Array.isArray(raw) ? raw : raw ? [raw] : []).filter((f): f is File => f instanceof File);
    if (files.length === 0) {
      throw fieldError("No file was uploaded.", [
        { field: "body.file", reason: "add one or more file fields" },
      ]);
    }
    // The body limit lets the form's framing through on top of the files; the files themselves get the exact limit.
    const total = files.reduce((n, f) => n + f.size, 0);
    if (total > deps.uploadMaxBytes) throw uploadTooLarge(deps.uploadMaxBytes);
    const problems: Array<{ field: string; reason: string }> = [];
    files.forEach((file, i) => {
      const path = folder ? `${folder}/${file.name}` : file.name;
      if (!isIndexablePath(path))
        problems.push({ field: `body.file.${i}`, reason: `${file.name}: not a usable file name` });
      else if (!UPLOAD_DOCUMENTS.test(file.name) && detectLanguage(file.name) === "text")
        problems.push({
          field: `body.file.${i}`,
          reason: `${file.name}: not a supported type (PDF, DOCX, HTML, Markdown, text or code)`,
        });
    });
    if (problems.length > 0) throw fieldError("Some files cannot be uploaded.", problems);
    const blobs = await deps.blobs();
    const stored = [];
    for (const file of files) {
      const path = folder ? `${folder}/${file.name}` : file.name;
      const info = await blobs.put(
        `${uploadPrefix(source.id)}${path}`,
        new Uint8Array(await file.arrayBuffer()),
      );
      stored.push({ path, size: info.size });
    }
    const queued = await requestSync(syncDeps, source.id, {
      mode: "incremental",
      trigger: "upload",
      paths: stored.map((s) => s.path),
    });
    return c.json({ files: stored, jobId: queued?.jobId }, 202);
  });

  app.get("/sources/:id/files", requireScope("sources:read"), pathParams(SourceParams), async (c) => {
    const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
    const blobs = await deps.blobs();
    const prefix = uploadPrefix(source.id);
    const files = [];
    for await (const info of blobs.list(prefix)) {
      files.push({
        path: info.key.slice(prefix.length),
        size: info.size,
        uploadedAt: info.modifiedAt.toISOString(),
      });
    }
    return c.json({ files });
  });

  app.delete(
    "/sources/:id/files",
    requireScope("sources:write"),
    pathParams(SourceParams),
    queryParams(DocumentQuery),
    async (c) => {
      const source = await ownSource(callerOrganization(c), c.req.valid("param").id);
      const path = c.req.valid("query").path;
      const blobs = await deps.blobs();
      if (!isIndexablePath(path) || !(await blobs.delete(`${uploadPrefix(source.id)}${path}`))) {
        throw errors.notFound(`File ${path}`);
      }
      await requestSync(syncDeps, source.id, { mode: "incremental", trigger: "upload", paths: [path] });
      return c.body(null, 204);
    },
  );

  return app;
}
