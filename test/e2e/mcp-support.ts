/**
 * Test support for the MCP service end to end: a platform with auth-service,
 * indexer, mcp-service (and the filesystem server) in one process, callers
 * signed up through the auth API, documents indexed through the indexer API,
 * and the SDK's real MCP client over Streamable HTTP.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect, onTestFinished } from "vitest";
import { type SignedUpUser, signUpUser } from "../support/platform-users.js";

const json = { "content-type": "application/json" };

/** A signed-up user: an API key with search:read and sources:write, the owner's access token, the organization. */
export type Caller = SignedUpUser;

/** Registers, signs in and creates an API key through the auth service's own API. */
export function signUp(authBase: string, email: string): Promise<Caller> {
  return signUpUser(authBase, email, ["search:read", "sources:write"]);
}

export interface Upsert {
  path: string;
  content: string;
}

/** Queues documents through `POST /indexer/api/index` (in batches under the job limit) and waits for every job. */
export async function indexDocuments(
  indexerBase: string,
  key: string,
  source: { sourceId: string; sourceRoot?: string },
  upserts: Upsert[],
): Promise<void> {
  const batches: Upsert[][] = [[]];
  let bytes = 0;
  for (const doc of upserts) {
    if (bytes + doc.content.length > 600_000 || batches.at(-1)!.length >= 200) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push(doc);
    bytes += doc.content.length;
  }
  for (const batch of batches) {
    const queued = await fetch(`${indexerBase}/indexer/api/index`, {
      method: "POST",
      headers: { ...json, authorization: `Bearer ${key}` },
      body: JSON.stringify({ ...source, upserts: batch }),
    });
    const body = (await queued.json()) as { jobId: string };
    expect(queued.status, JSON.stringify(body)).toBe(202);
    let state = "";
    for (let i = 0; i < 600 && state !== "completed"; i++) {
      const job = await fetch(`${indexerBase}/indexer/api/jobs/${body.jobId}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      const status = (await job.json()) as { state: string; error: string | null };
      state = status.state;
      if (state === "failed") throw new Error(`index job failed: ${status.error}`);
      if (state !== "completed") await new Promise((r) => setTimeout(r, 50));
    }
    if (state !== "completed") throw new Error("index job did not finish");
  }
}

/** A real MCP client over Streamable HTTP, closed after the test. */
export async function mcpClient(url: string, token?: string): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
  });
  const client = new Client({ name: "conhub-test", version: "1.0.0" });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

export interface ToolCall {
  result: CallToolResult;
  text: string;
  isError: boolean;
  // Structured content is checked field by field; a loose type keeps those assertions short.
  // biome-ignore lint/suspicious/noExplicitAny: test-only
  data: any;
}

export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<ToolCall> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    result,
    text: textOf(result),
    isError: result.isError === true,
    data: result.structuredContent,
  };
}

/** The text of a tool result, all parts joined. */
export function textOf(result: CallToolResult): string {
  return (result.content ?? []).map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/** The first text part (the exact text, for read). */
export function firstText(result: CallToolResult): string {
  const first = result.content?.[0];
  return first?.type === "text" ? first.text : "";
}
