import { aiServiceTarget } from "@conhub/ai-service";
import { authServiceTarget } from "@conhub/auth-service";
import { billingServiceTarget } from "@conhub/billing-service";
import type { TargetName } from "@conhub/config";
import { dataServiceTarget } from "@conhub/data-service";
import { frontendTarget } from "@conhub/frontend";
import { indexerTarget } from "@conhub/indexer";
import { mcpServiceTarget } from "@conhub/mcp";
import { dropboxTarget } from "@conhub/mcp-dropbox";
import { filesystemTarget } from "@conhub/mcp-filesystem";
import { googleDriveTarget } from "@conhub/mcp-google-drive";
import type { TargetModule } from "@conhub/middleware";
import { securityServiceTarget } from "@conhub/security-service";
import { webhookServiceTarget } from "@conhub/webhook-service";

/** Every target, registered once: the composition root's module table (Loki's `-target`). */
// biome-ignore lint/suspicious/noExplicitAny: modules differ in their config shapes; each is checked by defineTarget.
export const targetModules: Record<TargetName, TargetModule<any>> = {
  "auth-service": authServiceTarget,
  "billing-service": billingServiceTarget,
  "ai-service": aiServiceTarget,
  "data-service": dataServiceTarget,
  "security-service": securityServiceTarget,
  "webhook-service": webhookServiceTarget,
  indexer: indexerTarget,
  "mcp-service": mcpServiceTarget,
  "google-drive": googleDriveTarget,
  dropbox: dropboxTarget,
  filesystem: filesystemTarget,
  frontend: frontendTarget,
};

export { resolveTargets, UnknownTargetError } from "./target-names.js";
