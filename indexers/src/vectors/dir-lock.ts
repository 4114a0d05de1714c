import { open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";

/**
 * One process at a time per embedded vector store: usearch keeps its
 * indexes in memory and writes whole files, so a second writer (a
 * `conhub index` beside a running `conhub start` on the same data dir)
 * would overwrite the first one's work. The lock is a file holding the
 * owner's pid, taken with O_EXCL; a lock whose process is gone is stale
 * and taken over.
 */

export class StoreBusyError extends Error {
  override readonly name = "StoreBusyError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function lockDir(dir: string, what: string): Promise<() => Promise<void>> {
  const path = join(dir, "lock");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new StoreBusyError(
          `${what} in ${dir} is in use by another ConHub process (pid ${owner}); that process keeps the vectors up to date.`,
        );
      }
      // Stale (its process is gone), or our own from an unclean stop: take it over.
      await unlink(path).catch(() => undefined);
    }
  }
  throw new StoreBusyError(`${what} in ${dir} could not be locked.`);
}
