export { embeddedBackend, localOrganization } from "./backend/embedded.js";
export { indexerApi, indexerHttpBackend } from "./backend/indexer-http.js";
export { BackendError, type ContextBackend } from "./backend/port.js";
export {
  apiKeyPlaceholder,
  type ClientConfig,
  type ClientConfigInput,
  clientConfig,
  conhubBaseUrl,
  type McpClientName,
  type McpTransportName,
  mcpClients,
} from "./client-config.js";
export {
  configPath,
  mcpPath,
  mountMcpService,
  protectedResourceMetadata,
  publicOrigin,
  resourceMetadataPath,
} from "./http.js";
export { documentLines, lineWindow } from "./lines.js";
export { agentRulesPrompt, defaultAgentRules, researchPrompt } from "./prompts.js";
export { contextToolNames, createContextServer, serverName } from "./server.js";
export { type RunningStdioServer, serveStdio } from "./stdio.js";
export {
  mcpClientEnv,
  openStdioContext,
  type StdioContext,
  type StdioContextOptions,
} from "./stdio-setup.js";
export { filesystemToolsScope, mcpServiceTarget, serviceFetchAdapter } from "./target.js";
export { McpUpstream, type UpstreamOptions } from "./upstream.js";
export { documentUri, documentUriTemplate, parseDocumentUri } from "./uri.js";
