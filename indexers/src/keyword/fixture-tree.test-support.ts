import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A small realistic source tree for keyword index tests: TypeScript, Python, Markdown, plus files to skip. */
export const FIXTURE_FILES: Record<string, string> = {
  ".gitignore": "ignored/\n*.log\n",
  "src/http/router.ts": `import { parseHttpResponse } from "./client.js";

export interface Route {
  method: string;
  pattern: RegExp;
}

/** Matches incoming requests against registered routes. */
export class Router {
  private readonly routes: Route[] = [];

  add(route: Route): void {
    this.routes.push(route);
  }

  /** Finds the route for a request and calls its handler. */
  handleRequest(method: string, url: string): Route | undefined {
    for (const route of this.routes) {
      if (route.method === method && route.pattern.test(url)) return route;
    }
    return undefined;
  }
}
`,
  "src/http/client.ts": `/** Reads status and headers from a raw HTTP/1.1 response. */
export function parseHttpResponse(raw: string): { status: number; headers: Map<string, string> } {
  const [statusLine, ...lines] = raw.split("\\r\\n");
  const status = Number(statusLine?.split(" ")[1]);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status, headers };
}

export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 250 * 2 ** attempt);
}
`,
  "src/util/strings.ts": `/** Converts a camelCase or PascalCase name to kebab-case. */
export function toKebabCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const half = Math.floor((max - 1) / 2);
  return \`\${text.slice(0, half)}…\${text.slice(text.length - half)}\`;
}
`,
  "src/auth/tokens.py": `import time


class TokenStore:
    """Keeps access tokens per account and refreshes them before they expire."""

    def __init__(self, client):
        self.client = client
        self.tokens = {}

    def refresh_access_token(self, account_id):
        response = self.client.post("/oauth/token", {"account": account_id})
        self.tokens[account_id] = (response["access_token"], time.time() + response["expires_in"])
        return response["access_token"]


def is_expired(expires_at, skew=30):
    return time.time() + skew >= expires_at
`,
  "src/config.ts": `export const config = {
  region: "eu-west-1",
  awsAccessKeyId: "AKIAIOSFODNN7EXAMPLQ",
};
`,
  "docs/guide.md": `# Guide

How to run the service locally.

## Rate limiting

Requests are limited per account with a sliding window. When the limit is
reached the server answers 429 with a Retry-After header.

## Deployment

Build the image and start it with the production settings.
`,
  "ignored/generated.ts": "export const ignoredByGitignore = true;\n",
  "debug.log": "a log file that .gitignore excludes\n",
  ".env": "DATABASE_PASSWORD=hunter2hunter2\n",
  "package-lock.json": "{}\n",
};

export async function writeFixtureTree(
  root: string,
  files: Record<string, string> = FIXTURE_FILES,
): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}
