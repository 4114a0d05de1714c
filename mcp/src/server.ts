import type { Logger } from "@conhub/utils";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import type { ContextBackend } from "./backend/port.js";
import { agentRulesPrompt, getPrompt, researchPrompt } from "./prompts.js";
import { documentTemplate, listDocumentResources, protocolError, readDocumentResource } from "./resources.js";
import { askTool } from "./tools/ask.js";
import { findSymbolTool } from "./tools/find-symbol.js";
import { grepTool } from "./tools/grep.js";
import { listDocumentsTool } from "./tools/list-documents.js";
import { listSourcesTool } from "./tools/list-sources.js";
import { readTool } from "./tools/read.js";
import { searchTool } from "./tools/search.js";
import type { ContextTool } from "./tools/tool.js";
import type { McpUpstream } from "./upstream.js";

export const serverName = "conhub";

/** ConHub's own tools, in the order they are listed. */
export const contextTools: readonly ContextTool[] = [
  searchTool,
  readTool,
  grepTool,
  findSymbolTool,
  listSourcesTool,
  listDocumentsTool,
  askTool,
];
export const contextToolNames = contextTools.map((t) => t.definition.name);
const toolsByName = new Map(contextTools.map((t) => [t.definition.name, t]));

export interface ContextServerOptions {
  backend: ContextBackend;
  /** Other MCP servers whose tools this one also exposes (the filesystem server as fs_*). */
  upstreams?: readonly McpUpstream[];
  logger: Logger;
  version: string;
}

function instructions(options: ContextServerOptions): string {
  const upstreams = (options.upstreams ?? []).map((u) => u.label);
  return [
    `ConHub: the indexed code and documents of your organization (answers come from ${options.backend.description}).`,
    "Start with search (natural language or identifiers); grep for exact regular expressions; find_symbol for definitions; read for exact lines (by the conhub:// URI every result carries); list_sources and list_documents to see what is indexed; ask for the passages that answer a question, with citations.",
    upstreams.length > 0
      ? `Tools prefixed fs_ come from ConHub's ${upstreams.join(", ")} server: live files on the server's machine, not the index.`
      : "",
    'The prompt "agent_rules" holds the rules for using this context well.',
  ]
    .filter(Boolean)
    .join(" ");
}

/**
 * ConHub's MCP server: its own tools over a `ContextBackend`, the tools of
 * aggregated upstream servers, documents as resources and the agent-rules
 * prompts. Built on the SDK's low-level `Server` because the tool list is
 * not static (upstream tools come and go with their servers). One per stdio
 * connection, or one per request in stateless Streamable HTTP.
 */
export function createContextServer(options: ContextServerOptions): Server {
  const { backend, logger } = options;
  const upstreams = options.upstreams ?? [];
  const server = new Server(
    { name: serverName, title: "ConHub", version: options.version },
    {
      capabilities: {
        tools: { listChanged: false },
        resources: { listChanged: false },
        prompts: { listChanged: false },
      },
      instructions: instructions(options),
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const own = contextTools.map((t) => t.definition);
    const aggregated = await Promise.all(upstreams.map((u) => u.tools()));
    return { tools: [...own, ...aggregated.flat()] };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args } = request.params;
    const tool = toolsByName.get(name);
    if (tool) return tool.call(args, { backend, logger, signal: extra.signal });
    const upstream = upstreams.find((u) => u.owns(name));
    if (upstream) return upstream.call(name, args, extra.signal);
    throw new McpError(
      ErrorCode.InvalidParams,
      `Unknown tool ${JSON.stringify(name)}; tools/list shows the available tools.`,
    );
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
    try {
      return await listDocumentResources(backend, request.params?.cursor);
    } catch (err) {
      if (!(err instanceof McpError)) logger.warn({ err }, "resources/list failed");
      throw protocolError(err);
    }
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [documentTemplate],
  }));

  server.setRequestHandler(ReadResourceRequestSchema, (request) =>
    readDocumentResource(backend, request.params.uri),
  );

  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: [agentRulesPrompt, researchPrompt] }));

  server.setRequestHandler(GetPromptRequestSchema, (request) =>
    getPrompt(request.params.name, request.params.arguments),
  );

  return server;
}
