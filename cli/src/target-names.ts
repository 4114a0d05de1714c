import { type TargetName, targetNames } from "@conhub/config";

export class UnknownTargetError extends Error {}

/** `all`, or a comma-separated list of target names, in the seed's order; unknown names are all reported at once. */
export function resolveTargets(spec: string | undefined): TargetName[] {
  if (spec === undefined || spec.trim() === "" || spec.trim() === "all") return [...targetNames];
  const wanted = spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((w) => !(targetNames as readonly string[]).includes(w));
  if (unknown.length > 0) {
    throw new UnknownTargetError(
      `unknown target${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `"${u}"`).join(", ")}; ` +
        `the targets are: all, ${targetNames.join(", ")} (see \`conhub targets\`)`,
    );
  }
  return targetNames.filter((name) => wanted.includes(name));
}
