import { z } from "zod";
import { type Register, readOnly } from "./deps.js";
import { guarded, ok } from "./result.js";

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const listRootsTool = {
  title: "List allowed roots",
  description:
    "Lists the directories this server may access. Every path you pass to the other tools must lie inside one of them; relative paths resolve against the first. Also says whether hidden (dot) files are visible and whether write tools are enabled. Call this first when you do not know where files are.",
  inputSchema: z.strictObject({}),
  outputSchema: z.object({
    roots: z.array(z.object({ path: z.string(), exists: z.boolean() })),
    allowHidden: z.boolean(),
    writeEnabled: z.boolean(),
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerListRoots: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "list_roots",
    listRootsTool,
    guarded("list_roots", logger, async () => {
      const roots = sandbox.roots.map((r) => ({ path: r.path, exists: r.real !== null }));
      const lines = roots.map(
        (r, i) =>
          `${r.path}${i === 0 ? " (relative paths resolve here)" : ""}${r.exists ? "" : " — does not exist"}`,
      );
      lines.push(
        "",
        sandbox.allowHidden
          ? "Hidden (dot) files are visible."
          : "Hidden (dot) files and directories are not served.",
        sandbox.enableWrite
          ? "Write tools are enabled: write_file, create_directory, move_file."
          : "Read-only: write tools are disabled (FILE_SYSTEM_ENABLE_WRITE is off).",
      );
      return ok(`Allowed roots:\n${lines.join("\n")}`, {
        roots,
        allowHidden: sandbox.allowHidden,
        writeEnabled: sandbox.enableWrite,
      });
    }),
  );
};
