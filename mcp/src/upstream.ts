import type { Logger } from "@conhub/utils";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { type CallToolResult, ErrorCode, McpError, type Tool } from "@modelcontextprotocol/sdk/types.js";

/** What the SDK's HTTP transport calls to send a request (a ServiceFetch fits behind a small adapter). */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface UpstreamOptions {
  /** Shown to models and in logs: "filesystem". */
  label: string;
  /** Prepended to the upstream's tool names ("fs_"); "" keeps them. */
  prefix: string;
  /** Which upstream tools to expose, by their upstream name (default: all). */
  only?: (name: string) => boolean;
  /** The upstream's MCP endpoint; with an in-process fetch the host is only decoration. */
  endpoint: URL;
  fetch: FetchLike;
  /** Sent with every request (e.g. the caller's Authorization for a remote ConHub). */
  headers?: Record<string, string>;
  logger: Logger;
  version: string;
  /** After a failure, the upstream is not tried again for this long (default 10 s). */
  retryAfterMs?: number;
  /** Longest wait for the tool list (default 3 s): a slow upstream must not stall tools/list. */
  listTimeoutMs?: number;
  /** Longest wait for a tool call (default 60 s). */
  callTimeoutMs?: number;
}

/** Failures that mean "the upstream is not there", as opposed to an answer from it. */
function isTransportFailure(err: unknown): boolean {
  if (err instanceof McpError) {
    return err.code === ErrorCode.ConnectionClosed || err.code === ErrorCode.RequestTimeout;
  }
  return true;
}

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}

/**
 * Another MCP server whose tools this one re-exposes under a prefix (the
 * filesystem server as `fs_*`). One SDK client is kept and reused: the
 * servers we aggregate are stateless over Streamable HTTP, so a client
 * connected once can send any number of requests. When the upstream does
 * not answer, its tools are left out of listings and calls to them come
 * back as tool errors; it is tried again after `retryAfterMs`.
 */
export class McpUpstream {
  private client: Promise<Client> | undefined;
  private downUntil = 0;
  private lastFailure = "";
  private known = new Map<string, Tool>();

  constructor(private readonly options: UpstreamOptions) {}

  get label(): string {
    return this.options.label;
  }

  /** Whether a tool name (as exposed) belongs to this upstream. */
  owns(name: string): boolean {
    const { prefix, only } = this.options;
    if (!name.startsWith(prefix)) return false;
    if (prefix === "" && !only) return true;
    return only ? only(name.slice(prefix.length)) : true;
  }

  private connect(): Promise<Client> {
    this.client ??= (async () => {
      const transport = new StreamableHTTPClientTransport(this.options.endpoint, {
        fetch: this.options.fetch,
        ...(this.options.headers ? { requestInit: { headers: this.options.headers } } : {}),
      });
      const client = new Client({ name: "conhub-mcp-service", version: this.options.version });
      await client.connect(transport, { timeout: this.options.listTimeoutMs ?? 3000 });
      return client;
    })();
    return this.client;
  }

  private failed(err: unknown): void {
    const client = this.client;
    this.client = undefined;
    void client?.then((c) => c.close()).catch(() => {});
    this.lastFailure = reasonOf(err);
    this.downUntil = Date.now() + (this.options.retryAfterMs ?? 10_000);
    this.options.logger.warn(
      { upstream: this.options.label, reason: this.lastFailure },
      "MCP upstream unavailable",
    );
  }

  /** The upstream's tools as exposed here, or none while it does not answer. */
  async tools(): Promise<Tool[]> {
    if (Date.now() < this.downUntil) return [];
    try {
      const client = await this.connect();
      const { tools } = await client.listTools(undefined, { timeout: this.options.listTimeoutMs ?? 3000 });
      const exposed = tools
        .filter((t) => (this.options.only ? this.options.only(t.name) : true))
        .map((t) => ({
          ...t,
          name: `${this.options.prefix}${t.name}`,
          description: `(${this.options.label}) ${t.description ?? ""}`.trim(),
        }));
      this.known = new Map(exposed.map((t) => [t.name, t]));
      return exposed;
    } catch (err) {
      this.failed(err);
      return [];
    }
  }

  /** Calls an upstream tool by its exposed name; every failure becomes a tool error the model can read. */
  async call(
    name: string,
    args: Record<string, unknown> | undefined,
    signal?: AbortSignal,
  ): Promise<CallToolResult> {
    const unavailable = (why: string): CallToolResult => ({
      isError: true,
      content: [
        {
          type: "text",
          text: `${name}: the ${this.options.label} server is unavailable right now (${why}). Try again in a moment, or use ConHub's search, grep and read tools on the indexed copy instead.`,
        },
      ],
    });
    if (Date.now() < this.downUntil) return unavailable(this.lastFailure);
    if (!this.known.has(name)) {
      // Not listed by this server instance (stateless HTTP): learn the list before refusing.
      await this.tools();
      if (Date.now() < this.downUntil) return unavailable(this.lastFailure);
      if (!this.known.has(name)) {
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown tool ${JSON.stringify(name)}; tools/list shows the available tools.`,
        );
      }
    }
    try {
      const client = await this.connect();
      const result = await client.callTool(
        { name: name.slice(this.options.prefix.length), arguments: args ?? {} },
        undefined,
        { timeout: this.options.callTimeoutMs ?? 60_000, ...(signal ? { signal } : {}) },
      );
      return result as CallToolResult;
    } catch (err) {
      if (signal?.aborted)
        return { isError: true, content: [{ type: "text", text: `${name} was cancelled.` }] };
      if (isTransportFailure(err)) {
        this.failed(err);
        return unavailable(this.lastFailure);
      }
      // The upstream answered with a protocol error (bad arguments, unknown tool): pass its words on.
      return { isError: true, content: [{ type: "text", text: `${name}: ${(err as McpError).message}` }] };
    }
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.close()).catch(() => {});
  }
}
