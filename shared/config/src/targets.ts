/**
 * The twelve targets of the seed, with their ports and gateway prefixes. This
 * table is a contract (see ../shared/seed/conhub-microservices.md): nginx,
 * docker-compose, the one-process gateway and the README all follow it.
 */
export const targetNames = [
  "auth-service",
  "billing-service",
  "ai-service",
  "data-service",
  "security-service",
  "webhook-service",
  "indexer",
  "mcp-service",
  "google-drive",
  "dropbox",
  "filesystem",
  "frontend",
] as const;

export type TargetName = (typeof targetNames)[number];

export interface TargetInfo {
  name: TargetName;
  title: string;
  /** The seed's port. */
  port: number;
  /** Environment variable that overrides the port. */
  portVar: string;
  /** Environment variable holding the base URL other processes use to reach it. */
  urlVar: string;
  /** Path prefix on the gateway (nginx or the one-process gateway); null if not routed. */
  gatewayPrefix: string | null;
  /** Workspace folder. */
  folder: string;
}

function info(
  name: TargetName,
  title: string,
  port: number,
  varStem: string,
  gatewayPrefix: string | null,
  folder: string,
): TargetInfo {
  return { name, title, port, portVar: `${varStem}_PORT`, urlVar: `${varStem}_URL`, gatewayPrefix, folder };
}

export const targetCatalog: Readonly<Record<TargetName, TargetInfo>> = {
  "auth-service": info(
    "auth-service",
    "Auth Service",
    3010,
    "AUTH_SERVICE",
    "/api/auth",
    "services/auth-service",
  ),
  "billing-service": info(
    "billing-service",
    "Billing Service",
    3011,
    "BILLING_SERVICE",
    "/api/billing",
    "services/billing-service",
  ),
  "ai-service": info("ai-service", "AI Service", 3012, "AI_SERVICE", "/api/ai", "services/ai-service"),
  "data-service": info(
    "data-service",
    "Data Service",
    3013,
    "DATA_SERVICE",
    "/api/data",
    "services/data-service",
  ),
  "security-service": info(
    "security-service",
    "Security Service",
    3014,
    "SECURITY_SERVICE",
    "/api/security",
    "services/security-service",
  ),
  "webhook-service": info(
    "webhook-service",
    "Webhook Service",
    3015,
    "WEBHOOK_SERVICE",
    "/api/webhooks",
    "services/webhook-service",
  ),
  indexer: info("indexer", "Unified Indexer", 8080, "INDEXER", "/indexer", "indexers"),
  "mcp-service": info("mcp-service", "MCP Service", 3004, "MCP_SERVICE", "/mcp", "mcp"),
  "google-drive": info(
    "google-drive",
    "Google Drive MCP Server",
    3005,
    "GOOGLE_DRIVE_MCP",
    null,
    "mcp-servers/google-drive",
  ),
  dropbox: info("dropbox", "Dropbox MCP Server", 3006, "DROPBOX_MCP", null, "mcp-servers/dropbox"),
  filesystem: info(
    "filesystem",
    "Filesystem MCP Server",
    3007,
    "FILESYSTEM_MCP",
    null,
    "mcp-servers/filesystem",
  ),
  frontend: info("frontend", "Frontend", 3000, "FRONTEND", "/", "frontend"),
};

export function isTargetName(value: string): value is TargetName {
  return (targetNames as readonly string[]).includes(value);
}
