/** The MCP service's stdio transport is the shared one (also used by the filesystem MCP server). */
export { type RunningStdioServer, type StdioOptions, serveStdio } from "@conhub/mcp-kit";
