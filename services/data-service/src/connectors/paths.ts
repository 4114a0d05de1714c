import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";

/** Whether `path` (absolute) is `root` or inside it. */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(resolve(root), resolve(path));
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** The path with symbolic links resolved, or as given when it does not exist (yet). */
function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Problems with a local path against the allowed roots (empty list: any
 * folder) and the folders never allowed (ConHub's own data dir: keys,
 * databases, other organizations' uploads). Both the path and where its
 * symbolic links lead are checked.
 */
export function localPathProblem(
  path: string,
  roots: readonly string[],
  forbidden: readonly string[] = [],
): string | undefined {
  if (!isAbsolute(path)) return "must be an absolute path";
  for (const dir of forbidden) {
    if (isWithin(dir, path) || isWithin(real(dir), real(path)) || isWithin(path, dir)) {
      return "must not be (or contain) ConHub's data directory, which holds keys and every organization's data";
    }
  }
  if (roots.length > 0 && !roots.some((r) => isWithin(r, path) && isWithin(real(r), real(path)))) {
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
