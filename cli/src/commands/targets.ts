import { targetCatalog, targetNames } from "@conhub/config";
import { loadTargetModules } from "../targets.js";

/** `conhub targets`: the module table, with what each target can do today. */
export async function printTargets(json: boolean): Promise<void> {
  const modules = await loadTargetModules(targetNames);
  const rows = targetNames.map((name) => {
    const info = targetCatalog[name];
    const module = modules[name]!;
    return {
      name,
      title: info.title,
      port: info.port,
      gatewayPrefix: info.gatewayPrefix,
      folder: info.folder,
      uses: module.uses,
      capabilities: module.capabilities,
    };
  });
  if (json) {
    process.stdout.write(`${JSON.stringify({ targets: rows }, null, 2)}\n`);
    return;
  }
  const lines = ["Targets (`conhub start --target a,b`; `all` is the default):", ""];
  for (const r of rows) {
    const route = r.gatewayPrefix
      ? `${r.gatewayPrefix === "/" ? "/" : `${r.gatewayPrefix}/*`}`
      : "(not routed)";
    lines.push(`  ${r.name.padEnd(17)} :${String(r.port).padEnd(5)} ${route.padEnd(16)} ${r.folder}`);
    lines.push(`  ${"".padEnd(17)} ${r.capabilities.summary}`);
    if (r.capabilities.planned.length > 0) {
      const issue = r.capabilities.issue ? ` (issue #${r.capabilities.issue})` : "";
      lines.push(`  ${"".padEnd(17)} planned${issue}: ${r.capabilities.planned.join("; ")}`);
    }
    lines.push("");
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
