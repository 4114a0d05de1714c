import { isAbsolute, relative, resolve, sep } from "node:path";

/** Whether `path` (absolute) is `root` or inside it. */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** Problems with a local path against the allowed roots (empty list: any folder). */
export function localPathProblem(path: string, roots: readonly string[]): string | undefined {
  if (!isAbsolute(path)) return "must be an absolute path";
  if (roots.length > 0 && !roots.some((r) => isWithin(r, path))) {
    return `must be inside one of the folders the administrator allows (DATA_LOCAL_ROOTS): ${roots.join(", ")}`;
  }
  return undefined;
}

/** A path the indexer accepts: relative, `/`-separated plain segments. */
export function isIndexablePath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 4096 &&
    !path.startsWith("/") &&
    !path.includes("\0") &&
    !path.split("/").some((s) => s === "" || s === "." || s === "..")
  );
}
