import { formatProblems } from "@conhub/config";
import { loadConfig, renderEnvExample, renderVariablesTable } from "../config.js";
import { resolveTargets, UnknownTargetError } from "../targets.js";

/** `conhub config`: `--check` (default) reports every problem; `--env-example` and `--docs` print generated docs. */
export async function runConfigCommand(opts: {
  envExample?: boolean;
  docs?: boolean;
  target: string;
}): Promise<number> {
  if (opts.envExample) {
    process.stdout.write(await renderEnvExample());
    return 0;
  }
  if (opts.docs) {
    process.stdout.write(`${await renderVariablesTable()}\n`);
    return 0;
  }
  let targets: ReturnType<typeof resolveTargets>;
  try {
    targets = resolveTargets(opts.target);
  } catch (err) {
    if (err instanceof UnknownTargetError) {
      console.error(`Configuration problems:\n  - --target: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const result = await loadConfig(targets, process.env);
  if (!result.ok) {
    console.error(`Configuration problems (${result.problems.length}):\n${formatProblems(result.problems)}`);
    return 2;
  }
  process.stdout.write(`Configuration OK for ${targets.length} target(s).\n`);
  return 0;
}
