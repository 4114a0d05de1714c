/**
 * A small glob matcher for path exclusions (gitignore-like): `*` and `?`
 * within a segment, `**` across segments, `[abc]` classes and `{a,b}`
 * alternatives. A pattern without `/` matches the file name at any depth; a
 * pattern with `/` matches the whole relative path (a leading `/` anchors it
 * to the root, which is implied anyway). A pattern ending in `/` or `/**`
 * matches everything under that directory.
 */

function escapeChar(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

function translate(pattern: string): string {
  let out = "";
  let inGroup = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        const before = i === 0 || pattern[i - 1] === "/";
        const after = pattern[i + 2] === "/" || i + 2 === pattern.length;
        if (before && after) {
          // `**/` matches zero or more directories; a trailing `**` everything below.
          if (pattern[i + 2] === "/") {
            out += "(?:[^/]*/)*";
            i += 2;
          } else {
            out += ".*";
            i += 1;
          }
          continue;
        }
        i += 1;
      }
      out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close === -1) {
        out += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, close);
      if (body.startsWith("!")) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else if (c === "{") {
      inGroup++;
      out += "(?:";
    } else if (c === "}" && inGroup > 0) {
      inGroup--;
      out += ")";
    } else if (c === "," && inGroup > 0) {
      out += "|";
    } else {
      out += escapeChar(c);
    }
  }
  return out;
}

/** Compiles one glob to a RegExp over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let pattern = glob.trim();
  if (pattern.endsWith("/")) pattern += "**";
  const anchored = pattern.includes("/");
  if (pattern.startsWith("/")) pattern = pattern.slice(1);
  const body = translate(pattern);
  return new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`);
}
