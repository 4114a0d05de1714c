import {
  type ConfigProblem,
  documentVariable,
  type EnvShape,
  parseEnv,
  platformEnv,
  type TargetName,
  targetCatalog,
  targetNames,
  type VariableDoc,
} from "@conhub/config";
import type { PlatformConfig } from "@conhub/middleware";
import { loadTargetModules, type TargetModules } from "./targets.js";

export type LoadedConfig = PlatformConfig & Record<string, unknown>;

/** The platform variables plus those of the given targets. */
export function configShape(targets: readonly TargetName[], modules: TargetModules): EnvShape {
  const shape: EnvShape = { ...platformEnv };
  for (const name of targets) Object.assign(shape, modules[name]!.configShape);
  return shape;
}

/**
 * Parses the environment once for the targets to run and reports every
 * problem at once: schema violations and each target's own cross-checks.
 */
export async function loadConfig(
  targets: readonly TargetName[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ ok: true; config: LoadedConfig } | { ok: false; problems: ConfigProblem[] }> {
  const modules = await loadTargetModules(targets);
  const shape = configShape(targets, modules);
  let parsed = parseEnv(shape, env);
  const problems: ConfigProblem[] = [];
  if (!parsed.ok) {
    // Report the targets' own checks too, not only the schema's: parse again
    // without the variables already found wrong, and run the checks on that.
    problems.push(...parsed.problems);
    const bad = new Set(parsed.problems.map((p) => p.variable));
    parsed = parseEnv(shape, Object.fromEntries(Object.entries(env).filter(([k]) => !bad.has(k))));
    if (!parsed.ok) return { ok: false, problems };
  }
  const raw = parsed.config as Record<string, unknown>;
  const ports = {} as Record<TargetName, number>;
  const urls = {} as Record<TargetName, string>;
  for (const name of targetNames) {
    ports[name] = raw[targetCatalog[name].portVar] as number;
    urls[name] = raw[targetCatalog[name].urlVar] as string;
  }
  const config = { ...raw, ports, urls } as LoadedConfig;
  // Targets sharing a variable (JWT_SECRET) make the same check: report each problem once.
  const seen = new Set(problems.map((p) => `${p.variable}\u0000${p.message}`));
  for (const name of targets) {
    for (const problem of modules[name]!.validateConfig?.(config) ?? []) {
      const key = `${problem.variable}\u0000${problem.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push(problem);
    }
  }
  // Two listeners of this process on one port can never both start.
  const byPort = new Map<number, string[]>();
  for (const name of targets)
    byPort.set(ports[name], [...(byPort.get(ports[name]) ?? []), targetCatalog[name].portVar]);
  for (const [port, vars] of byPort) {
    if (vars.length > 1)
      problems.push({ variable: vars.join(", "), message: `all set to port ${port}; each needs its own` });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** Every variable of every target, documented, sorted by first appearance (platform first). */
export async function allVariables(): Promise<VariableDoc[]> {
  const shape = configShape(targetNames, await loadTargetModules(targetNames));
  return Object.entries(shape).map(([name, schema]) => documentVariable(name, schema));
}

/** `.env.example`, generated from the schemas (a test keeps the committed file equal to this). */
export async function renderEnvExample(): Promise<string> {
  const lines = [
    "# ConHub configuration. Unset variables take the default shown; production also needs JWT_SECRET.",
    "# Generated from the zod schemas by `conhub config --env-example`; a test keeps it in sync.",
    "",
  ];
  for (const v of await allVariables()) {
    lines.push(`# ${v.description}`);
    const value = v.default ?? v.example ?? "";
    lines.push(`# ${v.name}=${value}`);
    lines.push("");
  }
  return lines.join("\n");
}

/** The README's configuration table, generated from the schemas. */
export async function renderVariablesTable(): Promise<string> {
  const rows = ["| Variable | Default | Description |", "|---|---|---|"];
  for (const v of await allVariables()) {
    const def = v.default === undefined ? "—" : `\`${v.default}\``;
    rows.push(`| \`${v.name}\` | ${def} | ${v.description.replaceAll("|", "\\|")} |`);
  }
  return rows.join("\n");
}
