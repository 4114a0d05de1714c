import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FsToolError } from "./errors.js";

// O_NONBLOCK: opening a FIFO that appeared after the type check must not hang.
// O_NOFOLLOW: a final component swapped for a symbolic link after resolution is refused.
const readFlags = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Opens a resolved path for reading, refusing anything but a regular file (checked on the open descriptor). */
export async function openRegularFile(real: string, display: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(real, readFlags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") throw new FsToolError(`${display} changed into a symbolic link; try again.`);
    throw err;
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new FsToolError(
      info.isDirectory()
        ? `${display} is a directory; use list_directory or directory_tree on it.`
        : `${display} is not a regular file; only regular files can be read.`,
    );
  }
  return handle;
}
