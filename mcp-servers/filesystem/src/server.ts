import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ToolDeps } from "./tools/deps.js";
import { registerDirectoryTree } from "./tools/directory-tree.js";
import { registerFileInfo } from "./tools/file-info.js";
import { registerListDirectory } from "./tools/list-directory.js";
import { registerListRoots } from "./tools/list-roots.js";
import { registerReadFile } from "./tools/read-file.js";
import { registerSearchContent } from "./tools/search-content.js";
import { registerSearchFiles } from "./tools/search-files.js";
import { registerWriteTools } from "./tools/write.js";

export const serverName = "conhub-filesystem";

/** Tool names, read-only first; the write tools exist only when writes are enabled. */
export const readToolNames = [
  "list_roots",
  "list_directory",
  "directory_tree",
  "read_file",
  "search_files",
  "search_content",
  "file_info",
] as const;
export const writeToolNames = ["write_file", "create_directory", "move_file"] as const;

/**
 * The filesystem MCP server: one per connection (stdio) or per request
 * (stateless Streamable HTTP). Cheap to build; the sandbox is shared.
 */
export function createFilesystemMcpServer(deps: ToolDeps & { version: string }): McpServer {
  const { sandbox } = deps;
  const roots = sandbox.roots.map((r) => r.path).join(", ");
  const server = new McpServer(
    { name: serverName, title: "ConHub filesystem", version: deps.version },
    {
      capabilities: { tools: { listChanged: false } },
      instructions: `Reads ${sandbox.enableWrite ? "and writes " : ""}files inside these roots only: ${roots}. Paths are absolute inside a root, or relative to the first root. Find files with search_files (names) and search_content (text, like grep); read them with read_file (line ranges, paginated). Hidden (dot) files are ${sandbox.allowHidden ? "visible" : "not served"}.`,
      // Arguments are small objects; refuse absurdly large ones before validation.
      maxToolInputElements: 1000,
    },
  );
  registerListRoots(server, deps);
  registerListDirectory(server, deps);
  registerDirectoryTree(server, deps);
  registerReadFile(server, deps);
  registerSearchFiles(server, deps);
  registerSearchContent(server, deps);
  registerFileInfo(server, deps);
  if (sandbox.enableWrite) registerWriteTools(server, deps);
  return server;
}
