import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { Logger } from "@conhub/utils";
import type { BlobInfo, BlobStore, DependencyCheck } from "../ports.js";

export interface DiskBlobStoreOptions {
  /** The folder blobs live under; created if missing. */
  root: string;
  logger?: Logger;
}

/** Names of files being written; never a valid key segment, so never listed or overwritten by a caller. */
const TEMP_MARK = ".conhub-tmp-";

/** Why `key` (or a list prefix) is not a safe relative path, or undefined when it is. */
function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (typeof key !== "string") return "must be a string";
  if (key.length > 1024) return "is longer than 1024 characters";
  if (key.includes("\0")) return "contains NUL";
  if (key.includes("\\")) return "contains a backslash";
  if (key.startsWith("/")) return "is absolute";
  if (/^[A-Za-z]:/.test(key)) return "starts with a drive letter";
  if (!isPrefix && key.length === 0) return "is empty";
  const segments = key.split("/");
  // A prefix may end with '/' or with a partial segment; only its complete segments are checked for emptiness.
  const complete = isPrefix ? segments.slice(0, -1) : segments;
  for (const segment of complete) if (segment.length === 0) return "has an empty segment";
  for (const segment of segments) {
    if (segment === "." || segment === "..") return `has a '${segment}' segment`;
    if (segment.startsWith(TEMP_MARK)) return "uses a reserved name";
  }
  return undefined;
}

function checkKey(key: string, isPrefix = false): void {
  const problem = keyProblem(key, isPrefix);
  if (problem)
    throw new TypeError(`Invalid blob ${isPrefix ? "prefix" : "key"} ${JSON.stringify(key)}: ${problem}`);
}

function toInfo(key: string, s: { size: number; mtime: Date }): BlobInfo {
  return { key, size: s.size, modifiedAt: s.mtime };
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

/** Makes a rename durable: the directory entry itself is flushed. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Blobs as files under one folder. A put writes a temporary file beside the
 * target, flushes it, and renames it over the target (atomic on POSIX), then
 * flushes the folder: readers see the old blob or the new one, never a part,
 * and a crash leaves at most a temporary file behind.
 */
export async function openDiskBlobStore(options: DiskBlobStoreOptions): Promise<BlobStore> {
  const root = resolve(options.root);
  await mkdir(root, { recursive: true });
  const log = options.logger?.child({ store: "disk", root });

  const pathOf = (key: string): string => {
    checkKey(key);
    const path = resolve(root, ...key.split("/"));
    // Belt and braces: validation already refuses everything that could leave the root.
    if (!path.startsWith(root + sep))
      throw new TypeError(`Invalid blob key ${JSON.stringify(key)}: escapes the store`);
    return path;
  };

  const health: DependencyCheck = {
    name: "disk",
    kind: "embedded",
    async check() {
      try {
        await access(root, constants.R_OK | constants.W_OK);
      } catch (err) {
        throw new Error(`Blob folder ${root} is not writable: ${(err as Error).message}`, { cause: err });
      }
    },
  };

  async function* walk(dir: string, keyPrefix: string, wanted: string): AsyncGenerator<BlobInfo> {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    // Sorting "name/" for folders makes the depth-first walk yield keys in plain string order.
    const sorted = entries
      .filter((e) => !e.name.startsWith(TEMP_MARK) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ entry: e, sortKey: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const { entry } of sorted) {
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) {
        const sub = `${key}/`;
        if (sub.startsWith(wanted) || wanted.startsWith(sub)) yield* walk(join(dir, entry.name), sub, wanted);
      } else if (key.startsWith(wanted)) {
        try {
          yield toInfo(key, await stat(join(dir, entry.name)));
        } catch (err) {
          if (!isMissing(err)) throw err; // deleted while listing
        }
      }
    }
  }

  return {
    async put(key, data) {
      const path = pathOf(key);
      const dir = dirname(path);
      await mkdir(dir, { recursive: true });
      const temp = join(dir, `${TEMP_MARK}${randomBytes(8).toString("hex")}`);
      const handle = await open(temp, "wx", 0o644);
      try {
        try {
          if (data instanceof Uint8Array) {
            await handle.writeFile(data);
          } else {
            for await (const chunk of data) await handle.write(chunk);
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, path);
      } catch (err) {
        await unlink(temp).catch(() => undefined);
        throw err;
      }
      await syncDir(dir).catch((err) => log?.warn({ err }, "could not flush blob folder"));
      return toInfo(key, await stat(path));
    },
    async get(key) {
      try {
        const buffer = await readFile(pathOf(key));
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async stream(key) {
      const path = pathOf(key);
      try {
        const handle = await open(path, "r");
        if (!(await handle.stat()).isFile()) {
          await handle.close();
          return undefined;
        }
        return handle.createReadStream() as AsyncIterable<Uint8Array>;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async stat(key) {
      try {
        const s = await stat(pathOf(key));
        return s.isFile() ? toInfo(key, s) : undefined;
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async delete(key) {
      try {
        await unlink(pathOf(key));
        return true;
      } catch (err) {
        if (isMissing(err) || (err as { code?: unknown }).code === "EPERM") {
          const s = await stat(pathOf(key)).catch(() => undefined);
          if (!s?.isFile()) return false;
        }
        throw err;
      }
    },
    list(prefix) {
      checkKey(prefix, true);
      return walk(root, "", prefix);
    },
    health,
  };
}
