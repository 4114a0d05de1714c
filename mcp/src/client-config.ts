/**
 * The snippet a user pastes into an MCP client to connect it to ConHub, for
 * stdio (`conhub mcp`, started by the client) or Streamable HTTP (the MCP
 * service behind the gateway, with an API key). Used by `conhub mcp config`
 * and by `GET /mcp/config` for the dashboard.
 */

export const mcpClients = ["claude", "cursor", "vscode"] as const;
export type McpClientName = (typeof mcpClients)[number];
export type McpTransportName = "stdio" | "http";

/** Where the key goes when the client cannot prompt for it. */
export const apiKeyPlaceholder = "<your ConHub API key (chk_…)>";
const vscodeKeyInput = "conhub-api-key";

export interface ClientConfigInput {
  client: McpClientName;
  transport: McpTransportName;
  /** The ConHub base URL (the gateway), e.g. http://127.0.0.1:8000. */
  conhubUrl: string;
  /** How to start `conhub mcp` on the user's machine (stdio). */
  command: { command: string; args: string[] };
}

export interface ClientConfig {
  client: McpClientName;
  transport: McpTransportName;
  /** Where to paste it, and what to replace. */
  where: string;
  /** The JSON to paste. */
  snippet: Record<string, unknown>;
  /** `snippet` as pretty-printed JSON. */
  text: string;
}

/** `http://host:8000/` or `http://host:8000/mcp` → `http://host:8000`. */
export function conhubBaseUrl(url: string): string {
  return url.replace(/\/+$/, "").replace(/\/mcp$/, "");
}

export function clientConfig(input: ClientConfigInput): ClientConfig {
  const base = conhubBaseUrl(input.conhubUrl);
  const mcpUrl = `${base}/mcp`;
  const vscode = input.client === "vscode";
  const key = vscode ? `\${input:${vscodeKeyInput}}` : apiKeyPlaceholder;
  const stdio = {
    command: input.command.command,
    args: input.command.args,
    env: { CONHUB_URL: base, CONHUB_API_KEY: key },
  };
  const headers = { Authorization: `Bearer ${key}` };
  let snippet: Record<string, unknown>;
  let where: string;
  if (vscode) {
    const inputs = [
      { type: "promptString", id: vscodeKeyInput, description: "ConHub API key (chk_…)", password: true },
    ];
    snippet = {
      inputs,
      servers: {
        conhub:
          input.transport === "stdio" ? { type: "stdio", ...stdio } : { type: "http", url: mcpUrl, headers },
      },
    };
    where =
      "Add to .vscode/mcp.json in your workspace (or run “MCP: Open User Configuration”). VS Code asks for the API key once and stores it securely.";
  } else if (input.client === "claude") {
    snippet = {
      mcpServers: { conhub: input.transport === "stdio" ? stdio : { type: "http", url: mcpUrl, headers } },
    };
    where =
      input.transport === "stdio"
        ? `Claude Code: add to .mcp.json at your project root (or ~/.claude.json); Claude Desktop: add to claude_desktop_config.json. Replace ${apiKeyPlaceholder} with an API key (without one, conhub mcp serves the local index when ConHub is not running).`
        : `Claude Code: add to .mcp.json at your project root (or ~/.claude.json) and replace ${apiKeyPlaceholder} with an API key. (Claude Desktop adds remote servers under Settings → Connectors; use the stdio snippet in its config file.)`;
  } else {
    snippet = {
      mcpServers: { conhub: input.transport === "stdio" ? stdio : { url: mcpUrl, headers } },
    };
    where = `Add to .cursor/mcp.json in your project (or ~/.cursor/mcp.json for every project) and replace ${apiKeyPlaceholder} with an API key.`;
  }
  return {
    client: input.client,
    transport: input.transport,
    where,
    snippet,
    text: JSON.stringify(snippet, null, 2),
  };
}
