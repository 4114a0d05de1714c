import type { TargetName } from "@conhub/config";
import type { TargetModule } from "@conhub/middleware";

// biome-ignore lint/suspicious/noExplicitAny: modules differ in their config shapes; each is checked by defineTarget.
type AnyTargetModule = TargetModule<any>;

/**
 * Every target, registered once: the composition root's module table (Loki's
 * `-target`). Each entry imports its module only when asked, so a process
 * started with `--target indexer` loads the indexer's code and not the other
 * eleven (loading all of them cost ~2 s of start-up per process).
 */
const loaders: Record<TargetName, () => Promise<AnyTargetModule>> = {
  "auth-service": async () => (await import("@conhub/auth-service")).authServiceTarget,
  "billing-service": async () => (await import("@conhub/billing-service")).billingServiceTarget,
  "ai-service": async () => (await import("@conhub/ai-service")).aiServiceTarget,
  "data-service": async () => (await import("@conhub/data-service")).dataServiceTarget,
  "security-service": async () => (await import("@conhub/security-service")).securityServiceTarget,
  "webhook-service": async () => (await import("@conhub/webhook-service")).webhookServiceTarget,
  indexer: async () => (await import("@conhub/indexer")).indexerTarget,
  "mcp-service": async () => (await import("@conhub/mcp")).mcpServiceTarget,
  "google-drive": async () => (await import("@conhub/mcp-google-drive")).googleDriveTarget,
  dropbox: async () => (await import("@conhub/mcp-dropbox")).dropboxTarget,
  filesystem: async () => (await import("@conhub/mcp-filesystem")).filesystemTarget,
  frontend: async () => (await import("@conhub/frontend")).frontendTarget,
};

/** The modules of `names` (imported on first use, in parallel). */
export type TargetModules = Partial<Record<TargetName, AnyTargetModule>>;

export async function loadTargetModules(names: readonly TargetName[]): Promise<TargetModules> {
  const modules = await Promise.all(names.map((name) => loaders[name]()));
  return Object.fromEntries(names.map((name, i) => [name, modules[i]])) as TargetModules;
}

/** The module of one target. */
export async function loadTargetModule(name: TargetName): Promise<AnyTargetModule> {
  return loaders[name]();
}

export { resolveTargets, UnknownTargetError } from "./target-names.js";
