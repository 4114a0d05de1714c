/**
 * What SQL can check of a path glob (`safety/glob.ts` syntax) before the
 * exact check by its RegExp: a literal prefix every matching path starts
 * with (`clients/src/**` → `clients/src/`) and a literal suffix every
 * matching path ends with (`**\/*.java` → `.java`). Both are necessary
 * conditions only; `exact` says whether together they are also sufficient
 * (then the RegExp rejects nothing SQL let through).
 */
export interface GlobBounds {
  prefix: string;
  suffix: string;
  exact: boolean;
}

/** Characters with a meaning in a glob (`,` inside `{…}`). */
const SPECIAL = /[*?[\]{},]/;

export function globBounds(glob: string): GlobBounds {
  let pattern = glob.trim();
  if (pattern.endsWith("/")) pattern += "**";
  const anchored = pattern.includes("/");
  if (pattern.startsWith("/")) pattern = pattern.slice(1);
  let first = pattern.search(SPECIAL);
  if (first === -1) first = pattern.length;
  let last = -1;
  for (let i = pattern.length - 1; i >= 0; i--) {
    if (SPECIAL.test(pattern[i]!)) {
      last = i;
      break;
    }
  }
  const literal = last === -1;
  // An unanchored glob matches the file name at any depth: no prefix, but its end is the path's end.
  const prefix = anchored ? pattern.slice(0, first) : "";
  const suffix = literal ? pattern : pattern.slice(last + 1);
  const middle = pattern.slice(first, last + 1);
  const exact = literal
    ? anchored
    : // `prefix/**` (everything below), `[prefix/]**/*suffix` or unanchored `*suffix` (suffix without `/`).
      (anchored && suffix === "" && middle === "**" && (prefix === "" || prefix.endsWith("/"))) ||
      (!suffix.includes("/") &&
        ((anchored && middle === "**/*" && (prefix === "" || prefix.endsWith("/"))) ||
          (!anchored && middle === "*")));
  return { prefix, suffix, exact };
}
