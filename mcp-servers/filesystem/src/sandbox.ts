import type { Stats } from "node:fs";
import { lstat, realpath, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import type { FilesystemOptions } from "./config.js";
import { describeErrno, FsToolError, quote } from "./errors.js";

/** Longest path accepted (Linux PATH_MAX) and longest name (NAME_MAX, in bytes). */
export const maxPathLength = 4096;
export const maxNameBytes = 255;

export interface Root {
  /** As configured (what the model sees). */
  path: string;
  /** After resolving symbolic links; null when the directory does not exist. */
  real: string | null;
}

export interface ResolvedPath {
  /** The path as written, made absolute (symbolic links not resolved). */
  lexical: string;
  /** The real location (symbolic links resolved), where the operation happens. */
  real: string;
  /** The same location under its configured root, as shown to the model. */
  display: string;
  /** The root the real location lies in. */
  root: Root;
  /** `stat` of the real location when it exists (never a FIFO, socket or device). */
  stats: Stats | null;
}

export type Intent =
  /** The path must exist and be a regular file or a directory. */
  | "existing"
  /** The path may not exist yet; its nearest existing ancestor must be a directory inside a root. */
  | "create";

// Formatting characters (bidi overrides, zero-width joiners…) disguise names; control characters break output.
const invisible = /[\p{Cf}\p{Cc}]/u;
const percentEncoded = /%[0-9a-fA-F]{2}/;
const driveLetter = /^[a-zA-Z]:/;

/**
 * Confines every path to the configured roots. A path is accepted only if it
 * is well-formed (no `..`, NUL, backslash, drive letter, percent-encoding or
 * invisible characters), lies under a root both as written and after
 * resolving symbolic links, has no hidden (dot) segment unless allowed, is
 * not inside a protected directory, and (when it exists) is a regular file or
 * a directory.
 */
export class Sandbox {
  private constructor(
    readonly roots: Root[],
    readonly allowHidden: boolean,
    readonly enableWrite: boolean,
    private readonly protectedDirs: string[],
  ) {}

  static async create(options: FilesystemOptions): Promise<Sandbox> {
    const roots = await Promise.all(
      options.roots.map(async (path) => {
        const p = normalize(path);
        try {
          const real = await realpath(p);
          return { path: p, real: (await stat(real)).isDirectory() ? real : null };
        } catch {
          return { path: p, real: null };
        }
      }),
    );
    const protectedDirs = new Set<string>();
    for (const dir of options.protectedPaths) {
      protectedDirs.add(normalize(dir));
      try {
        protectedDirs.add(await realpath(dir));
      } catch {
        // not created yet: the lexical form is enough
      }
    }
    // A root the operator placed inside a protected directory is an explicit choice: honour it.
    const unprotected = [...protectedDirs].filter(
      (dir) => !roots.some((r) => isWithin(r.path, dir) || (r.real !== null && isWithin(r.real, dir))),
    );
    return new Sandbox(roots, options.allowHidden, options.enableWrite, unprotected);
  }

  /** The roots that exist. */
  get liveRoots(): Array<Root & { real: string }> {
    return this.roots.filter((r): r is Root & { real: string } => r.real !== null);
  }

  rootList(): string {
    return this.roots.map((r) => r.path).join(", ") || "(none)";
  }

  /** Resolves a path given by the model, or throws an `FsToolError` saying why it is refused. */
  async resolve(input: string, intent: Intent = "existing"): Promise<ResolvedPath> {
    const candidate = this.lexical(input);
    const lexicalRoot = this.rootOf(candidate, true);
    if (!lexicalRoot) throw this.outside(input);
    this.checkSegments(input, candidate, lexicalRoot);

    let real: string;
    try {
      real = intent === "existing" ? await realpath(candidate) : await this.realForCreate(input, candidate);
    } catch (err) {
      if (err instanceof FsToolError) throw err;
      throw new FsToolError(describeErrno(err, input) ?? `${quote(input)} cannot be resolved.`);
    }
    const root = this.rootOf(real, false);
    if (!root?.real) {
      throw new FsToolError(
        `${quote(input)} is or passes through a symbolic link that leads outside the allowed roots; allowed roots are ${this.rootList()}.`,
      );
    }
    const display = join(root.path, relative(root.real, real));
    this.checkSegments(input, real, root);

    let stats: Stats | null = null;
    try {
      stats = await stat(real);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (intent === "existing" || code !== "ENOENT") {
        throw new FsToolError(describeErrno(err, input) ?? `${quote(input)} cannot be read.`);
      }
    }
    if (stats && !stats.isFile() && !stats.isDirectory()) {
      throw new FsToolError(
        `${quote(input)} is ${describeSpecial(stats)}; only regular files and directories can be used.`,
      );
    }
    return { lexical: candidate, real, display, root, stats };
  }

  /** Whether a name met while walking a directory is hidden from the model. */
  hides(name: string): boolean {
    return !this.allowHidden && isHiddenName(name);
  }

  /** Whether a real path met while walking lies in a protected directory. */
  isProtected(real: string): boolean {
    return this.protectedDirs.some((dir) => isWithin(real, dir));
  }

  /** The model-facing form of a real path inside a root. */
  displayOf(real: string): string {
    const root = this.rootOf(real, false);
    return root?.real ? join(root.path, relative(root.real, real)) : real;
  }

  private lexical(input: string): string {
    if (typeof input !== "string" || input.length === 0) {
      throw new FsToolError(
        `the path is empty; pass an absolute path inside a root or a path relative to the first root (${this.roots[0]?.path ?? "none configured"}).`,
      );
    }
    if (input.length > maxPathLength) {
      throw new FsToolError(
        `the path is ${input.length} characters long; the limit is ${maxPathLength}. Pass a shorter path.`,
      );
    }
    if (input.includes("\0")) throw new FsToolError(`${quote(input)} contains a NUL byte; remove it.`);
    if (invisible.test(input)) {
      throw new FsToolError(
        `${quote(input)} contains control or invisible formatting characters; paths must be plain text.`,
      );
    }
    if (input.includes("\\")) {
      throw new FsToolError(
        `${quote(input)} contains a backslash; use forward slashes (/) to separate directories.`,
      );
    }
    if (driveLetter.test(input)) {
      throw new FsToolError(
        `${quote(input)} is a Windows drive path; this server uses POSIX paths. Allowed roots are ${this.rootList()}.`,
      );
    }
    if (percentEncoded.test(input)) {
      throw new FsToolError(
        `${quote(input)} contains percent-encoding (%XX); paths are taken literally, so pass the plain path.`,
      );
    }
    const expanded = input === "~" || input.startsWith("~/") ? join(homedir(), input.slice(1)) : input;
    for (const segment of expanded.split("/")) {
      const folded = segment.normalize("NFKC");
      if (segment === "..") {
        throw new FsToolError(
          `${quote(input)} contains "..": parent-directory steps are not allowed. Pass an absolute path inside a root (${this.rootList()}).`,
        );
      }
      if (folded !== segment && (folded === "." || folded === ".." || /[/\\]/.test(folded))) {
        throw new FsToolError(
          `${quote(input)} contains Unicode look-alikes of "." or "/"; pass the plain path.`,
        );
      }
      if (Buffer.byteLength(segment) > maxNameBytes) {
        throw new FsToolError(
          `${quote(input)} has a name longer than ${maxNameBytes} bytes; no file can have such a name.`,
        );
      }
    }
    const first = this.roots[0];
    if (isAbsolute(expanded)) return stripTrailingSep(normalize(expanded));
    if (!first) throw new FsToolError("no roots are configured (FILE_SYSTEM_ALLOWED_PATHS).");
    return stripTrailingSep(normalize(join(first.path, expanded)));
  }

  /** The most specific root containing `path`, as configured (lexical) or as resolved. */
  private rootOf(path: string, lexical: boolean): Root | undefined {
    let best: Root | undefined;
    let bestLength = -1;
    for (const root of this.roots) {
      const forms = lexical ? [root.path, root.real] : [root.real];
      for (const form of forms) {
        if (form !== null && isWithin(path, form) && form.length > bestLength) {
          best = root;
          bestLength = form.length;
        }
      }
    }
    return best;
  }

  private checkSegments(input: string, path: string, root: Root): void {
    const base = root.real !== null && isWithin(path, root.real) ? root.real : root.path;
    const rel = relative(base, path);
    if (!this.allowHidden && rel !== "") {
      const hidden = rel.split(sep).find((s) => isHiddenName(s));
      if (hidden !== undefined) {
        throw new FsToolError(
          `${quote(input)} is hidden (${JSON.stringify(hidden)} starts with a dot); hidden files and directories are not served (FILE_SYSTEM_ALLOW_HIDDEN is off).`,
        );
      }
    }
    if (this.isProtected(path)) {
      throw new FsToolError(
        `${quote(input)} is inside ConHub's data directory, which holds ConHub's own databases and is never served.`,
      );
    }
  }

  private async realForCreate(input: string, candidate: string): Promise<string> {
    const missing: string[] = [];
    let current = candidate;
    for (;;) {
      let exists = true;
      try {
        await lstat(current);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        exists = false;
      }
      if (exists) {
        let real: string;
        try {
          real = await realpath(current);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") {
            throw new FsToolError(
              `${quote(input)} cannot be used: it passes through a symbolic link whose target does not exist.`,
            );
          }
          throw err;
        }
        if (missing.length === 0) return real;
        if (!(await stat(real)).isDirectory()) {
          throw new FsToolError(
            `${quote(input)} cannot be created: ${quote(this.displayOf(real))} is a file, not a directory.`,
          );
        }
        return join(real, ...missing.reverse());
      }
      const parent = join(current, "..");
      if (parent === current) throw new FsToolError(`${quote(input)}: no existing parent directory.`);
      missing.push(current.slice(parent === sep ? 1 : parent.length + 1));
      current = parent;
    }
  }

  private outside(input: string): FsToolError {
    return new FsToolError(
      `${quote(input)} is outside the allowed roots; allowed roots are ${this.rootList()}. Pass an absolute path inside one of them, or a path relative to ${this.roots[0]?.path ?? "the first root"}.`,
    );
  }
}

export function isWithin(path: string, dir: string): boolean {
  if (path === dir) return true;
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  return path.startsWith(prefix);
}

/** Dot-names, including ones written with look-alike dots (`．env`). */
export function isHiddenName(name: string): boolean {
  return name.startsWith(".") || name.normalize("NFKC").startsWith(".");
}

function stripTrailingSep(path: string): string {
  return path.length > 1 && path.endsWith(sep) ? path.slice(0, -1) : path;
}

function describeSpecial(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO (named pipe)";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  return "not a regular file";
}
