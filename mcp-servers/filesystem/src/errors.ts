/**
 * A refusal or failure the model can act on. Its message is returned as the
 * tool result (`isError: true`); it never carries a stack trace.
 */
export class FsToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FsToolError";
  }
}

/** Shows a path the way the model sent it, weird characters escaped, long ones shortened. */
export function quote(path: string): string {
  const shown = path.length > 200 ? `${path.slice(0, 120)}…(${path.length} characters)` : path;
  return JSON.stringify(shown);
}

/** Node's errno codes, as sentences about the path involved. */
export function describeErrno(err: unknown, path: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const p = quote(path);
  switch (code) {
    case "ENOENT":
      return `${p} does not exist. Use list_directory or search_files to find the right path.`;
    case "ENOTDIR":
      return `${p} goes through a file as if it were a directory; check the path.`;
    case "EISDIR":
      return `${p} is a directory; use list_directory or directory_tree on it.`;
    case "EACCES":
    case "EPERM":
      return `permission denied for ${p} (the server's operating-system user may not access it).`;
    case "ELOOP":
      return `${p} has too many levels of symbolic links.`;
    case "ENAMETOOLONG":
      return `${p} is too long for the filesystem.`;
    case "EEXIST":
      return `${p} already exists.`;
    case "ENOTEMPTY":
      return `${p} is a directory that is not empty.`;
    case "EXDEV":
      return `${p} cannot be moved across filesystems; copy it with read_file and write_file instead.`;
    case "ENOSPC":
      return "the disk is full.";
    case "EROFS":
      return `${p} is on a read-only filesystem.`;
    case "EBUSY":
      return `${p} is busy.`;
    default:
      return undefined;
  }
}
