/**
 * Glob patterns as in .gitignore and most editors: `*` (any characters but
 * `/`), `**` (any number of directories), `?`, `[abc]`, `[!abc]`, `{a,b}`.
 * A pattern without `/` matches a name anywhere; one with `/` matches the
 * path relative to where the search started.
 */
export interface Glob {
  source: string;
  test(relativePath: string, name: string): boolean;
}

export const globChars = /[*?[\]{}]/;

export function compileGlob(pattern: string, options: { caseInsensitive?: boolean } = {}): Glob {
  const trimmed = pattern.startsWith("./") ? pattern.slice(2) : pattern;
  const anchored = trimmed.replace(/\/+$/, "").includes("/");
  const body = trimmed.replace(/^\/+/, "").replace(/\/+$/, "");
  const re = new RegExp(`^${globToRegExpSource(body)}$`, options.caseInsensitive ? "i" : "");
  return {
    source: pattern,
    test: (relativePath, name) => (anchored ? re.test(relativePath) : re.test(name)),
  };
}

export function globToRegExpSource(glob: string): string {
  let out = "";
  let i = 0;
  let braceDepth = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const atStart = i === 0 || glob[i - 1] === "/";
        const next = glob[i + 2];
        if (atStart && next === "/") {
          out += "(?:[^/]*/)*";
          i += 3;
          continue;
        }
        if (atStart && next === undefined) {
          out += ".*";
          i += 2;
          continue;
        }
        out += "[^/]*";
        i += 2;
        continue;
      }
      out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
      } else {
        let cls = glob.slice(i + 1, close);
        if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
        out += `[${cls.replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else if (c === "{") {
      braceDepth += 1;
      out += "(?:";
    } else if (c === "}" && braceDepth > 0) {
      braceDepth -= 1;
      out += ")";
    } else if (c === "," && braceDepth > 0) {
      out += "|";
    } else {
      out += c.replace(/[.+^$()|\\/{}]/g, "\\$&");
    }
    i += 1;
  }
  return out + ")".repeat(braceDepth);
}
