import { formatProblems } from "@conhub/config";
import { createLogger } from "@conhub/utils";
import { loadConfig } from "../config.js";
import { checkDataDir } from "../preflight.js";
import { StorageFactory } from "../storage.js";
import { loadTargetModules, resolveTargets, UnknownTargetError } from "../targets.js";

/** `conhub migrate`: applies each target's pending migrations to its own store (SQLite file or PostgreSQL schema). */
export async function runMigrate(targetSpec: string): Promise<number> {
  let targets: ReturnType<typeof resolveTargets>;
  try {
    targets = resolveTargets(targetSpec);
  } catch (err) {
    if (err instanceof UnknownTargetError) {
      console.error(`conhub migrate:\n  - --target: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const loaded = await loadConfig(targets, process.env);
  if (!loaded.ok) {
    console.error(`Configuration problems:\n${formatProblems(loaded.problems)}`);
    return 2;
  }
  const config = loaded.config;
  if (!config.DATABASE_URL) {
    const problems = await checkDataDir(config.CONHUB_DATA_DIR);
    if (problems.length > 0) {
      console.error(formatProblems(problems));
      return 2;
    }
  }
  const storage = new StorageFactory(
    config,
    createLogger({ level: config.LOG_LEVEL, name: "conhub-migrate" }),
  );
  const modules = await loadTargetModules(targets);
  let failed = false;
  try {
    for (const name of targets) {
      const module = modules[name]!;
      if (!module.uses.includes("relational")) continue;
      try {
        const store = await storage.openRelational(name);
        const before = (await store.appliedMigrations()).length;
        const applied = await store.migrate(module.migrations);
        process.stdout.write(
          `${name.padEnd(17)} ${store.dialect.padEnd(8)} ${applied.length} newly applied, ${before} already applied, ` +
            `${Object.keys(module.migrations).length} defined\n`,
        );
      } catch (err) {
        failed = true;
        console.error(`${name}: migration failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await storage.close();
  }
  return failed ? 1 : 0;
}
