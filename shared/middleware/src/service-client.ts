import { HealthResponse, ReadyResponse, ServiceInfo } from "@conhub/models";
import type { z } from "zod";
import type { ServiceFetch } from "./service-fetch.js";

/** A call to another service that did not produce the expected answer. */
export class ServiceCallError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "ServiceCallError";
  }
}

export interface CallOptions {
  timeoutMs?: number;
  /** Statuses whose body is still a valid answer (e.g. 503 from `/ready`). */
  acceptStatuses?: number[];
}

/** GET `path` and validate the JSON answer with `schema`; the same code in one process and split. */
export async function getJson<T extends z.ZodType>(
  fetcher: ServiceFetch,
  path: string,
  schema: T,
  options: CallOptions = {},
): Promise<{ status: number; body: z.output<T> }> {
  const response = await fetcher(path, {
    headers: { accept: "application/json" },
    signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
  });
  const accepted = response.ok || (options.acceptStatuses ?? []).includes(response.status);
  if (!accepted) throw new ServiceCallError(`GET ${path} answered ${response.status}`, response.status);
  const parsed = schema.safeParse(await response.json());
  if (!parsed.success) {
    throw new ServiceCallError(
      `GET ${path} answered an unexpected body: ${parsed.error.message}`,
      response.status,
    );
  }
  return { status: response.status, body: parsed.data };
}

/** The probes every ConHub service answers, as a typed client. */
export function probeClient(fetcher: ServiceFetch, timeoutMs = 2500) {
  return {
    health: async () => (await getJson(fetcher, "/health", HealthResponse, { timeoutMs })).body,
    /** `/ready`'s report; `ready` is false (not an error) when a dependency is down. */
    ready: async () => {
      const { status, body } = await getJson(fetcher, "/ready", ReadyResponse, {
        timeoutMs,
        acceptStatuses: [503],
      });
      return { ready: status === 200 && body.status === "ready", report: body };
    },
    info: async () => (await getJson(fetcher, "/info", ServiceInfo, { timeoutMs })).body,
  };
}
