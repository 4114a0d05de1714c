export {
  expandHome,
  type FilesystemConfig,
  type FilesystemOptions,
  filesystemConfigShape,
  filesystemOptionsFromConfig,
  validateFilesystemConfig,
} from "./config.js";
export { FsToolError } from "./errors.js";
export { mcpPath, mountMcpEndpoint } from "./http.js";
export { type Intent, type ResolvedPath, type Root, Sandbox } from "./sandbox.js";
export { createFilesystemMcpServer, readToolNames, serverName, writeToolNames } from "./server.js";
export { type FilesystemStdioOptions, type RunningStdioServer, runFilesystemStdio } from "./stdio.js";
export { filesystemTarget } from "./target.js";
