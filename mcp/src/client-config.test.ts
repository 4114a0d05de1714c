import { describe, expect, it } from "vitest";
import { apiKeyPlaceholder, clientConfig, conhubBaseUrl } from "./client-config.js";

const command = { command: "conhub", args: ["mcp"] };

describe("MCP client snippets", () => {
  it("claude: stdio starts conhub mcp with the URL and key; HTTP is a typed http server with the header", () => {
    const stdio = clientConfig({
      client: "claude",
      transport: "stdio",
      conhubUrl: "http://127.0.0.1:8000/",
      command,
    });
    expect(stdio.snippet).toEqual({
      mcpServers: {
        conhub: {
          command: "conhub",
          args: ["mcp"],
          env: { CONHUB_URL: "http://127.0.0.1:8000", CONHUB_API_KEY: apiKeyPlaceholder },
        },
      },
    });
    const http = clientConfig({
      client: "claude",
      transport: "http",
      conhubUrl: "https://conhub.example.com/mcp",
      command,
    });
    expect(http.snippet).toEqual({
      mcpServers: {
        conhub: {
          type: "http",
          url: "https://conhub.example.com/mcp",
          headers: { Authorization: `Bearer ${apiKeyPlaceholder}` },
        },
      },
    });
    expect(http.where).toContain(".mcp.json");
    expect(JSON.parse(http.text)).toEqual(http.snippet);
  });

  it("cursor: url + headers for HTTP, command for stdio", () => {
    const http = clientConfig({ client: "cursor", transport: "http", conhubUrl: "http://h:8000", command });
    expect(http.snippet).toEqual({
      mcpServers: {
        conhub: { url: "http://h:8000/mcp", headers: { Authorization: `Bearer ${apiKeyPlaceholder}` } },
      },
    });
    expect(http.where).toContain(".cursor/mcp.json");
    const stdio = clientConfig({ client: "cursor", transport: "stdio", conhubUrl: "http://h:8000", command });
    expect(stdio.snippet).toMatchObject({ mcpServers: { conhub: { command: "conhub", args: ["mcp"] } } });
  });

  it("vscode: servers with a type, and the key asked once through a password input", () => {
    const http = clientConfig({ client: "vscode", transport: "http", conhubUrl: "http://h:8000", command });
    expect(http.snippet).toEqual({
      inputs: [
        { type: "promptString", id: "conhub-api-key", description: "ConHub API key (chk_…)", password: true },
      ],
      servers: {
        conhub: {
          type: "http",
          url: "http://h:8000/mcp",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own input syntax
          headers: { Authorization: "Bearer ${input:conhub-api-key}" },
        },
      },
    });
    const stdio = clientConfig({ client: "vscode", transport: "stdio", conhubUrl: "http://h:8000", command });
    expect(stdio.snippet).toMatchObject({
      servers: {
        conhub: {
          type: "stdio",
          command: "conhub",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own input syntax
          env: { CONHUB_API_KEY: "${input:conhub-api-key}" },
        },
      },
    });
    expect(stdio.where).toContain(".vscode/mcp.json");
  });

  it("conhubBaseUrl strips a trailing /mcp and slashes", () => {
    expect(conhubBaseUrl("https://x.example/mcp/")).toBe("https://x.example");
    expect(conhubBaseUrl("https://x.example/conhub")).toBe("https://x.example/conhub");
  });
});
