import { join } from "node:path";
import { z } from "zod";
import { compileGlob } from "../glob.js";
import { type EntryType, entryType, sortedEntries } from "../walk.js";
import { excludeField, pathField, type Register, readOnly, resolveDirectory } from "./deps.js";
import { guarded, ok } from "./result.js";

interface Node {
  name: string;
  type: EntryType;
  children?: Node[];
  /** Entries of this directory left out because the entry cap was reached. */
  omitted?: number;
  unreadable?: boolean;
}

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const directoryTreeTool = {
  title: "Directory tree",
  description:
    "Shows the files and directories below a directory as an indented tree, level by level up to maxDepth, stopping at maxEntries entries in total (the result says what was left out). Symbolic links are shown but not followed. Good for a first look at a project's layout.",
  inputSchema: z.strictObject({
    path: pathField("Directory").optional().describe("Directory to start from; default: the first root."),
    maxDepth: z.number().int().min(1).max(10).default(3).describe("Levels below the directory (1–10)."),
    maxEntries: z.number().int().min(1).max(5000).default(500).describe("Most entries in total (1–5000)."),
    exclude: excludeField,
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerDirectoryTree: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "directory_tree",
    directoryTreeTool,
    guarded("directory_tree", logger, async ({ path, maxDepth, maxEntries, exclude }) => {
      const start = await resolveDirectory(sandbox, path);
      const globs = exclude.map((g) => compileGlob(g));
      const top: Node = { name: start.display, type: "directory", children: [] };
      // Breadth-first, so a capped tree shows the upper levels of every branch.
      let level: Array<{ node: Node; real: string; relative: string }> = [
        { node: top, real: start.real, relative: "" },
      ];
      let count = 0;
      let capped = false;
      let depthLimited = false;
      for (let depth = 1; depth <= maxDepth && level.length > 0; depth += 1) {
        const next: typeof level = [];
        for (const { node, real, relative } of level) {
          let entries: Awaited<ReturnType<typeof sortedEntries>>;
          try {
            entries = await sortedEntries(real);
          } catch {
            node.unreadable = true;
            continue;
          }
          const children: Node[] = [];
          const visible = entries.filter((d) => {
            const rel = relative === "" ? d.name : `${relative}/${d.name}`;
            return (
              !sandbox.hides(d.name) &&
              !sandbox.isProtected(join(real, d.name)) &&
              !globs.some((g) => g.test(rel, d.name))
            );
          });
          for (const d of visible) {
            if (count >= maxEntries) {
              capped = true;
              node.omitted = visible.length - children.length;
              break;
            }
            count += 1;
            const child: Node = { name: d.name, type: entryType(d) };
            children.push(child);
            if (child.type === "directory") {
              child.children = [];
              if (depth < maxDepth) {
                next.push({
                  node: child,
                  real: join(real, d.name),
                  relative: relative === "" ? d.name : `${relative}/${d.name}`,
                });
              } else {
                depthLimited = true;
                delete child.children;
              }
            }
          }
          node.children = children;
        }
        level = next;
      }

      const lines = [`${start.display}/`];
      render(top, "", lines);
      const notes: string[] = [`${count} entr${count === 1 ? "y" : "ies"} shown.`];
      if (capped) notes.push(`Stopped at maxEntries=${maxEntries}; "… N more" marks what was left out.`);
      if (depthLimited) {
        notes.push(
          `Directories ending in "/ …" were not expanded (maxDepth=${maxDepth}); call directory_tree on one of them to see inside.`,
        );
      }
      return ok(`${lines.join("\n")}\n\n${notes.join(" ")}`);
    }),
  );
};

function render(node: Node, indent: string, lines: string[]): void {
  for (const child of node.children ?? []) {
    if (child.type === "directory") {
      lines.push(
        `${indent}  ${child.name}/${child.children === undefined ? " …" : ""}${child.unreadable ? " (unreadable)" : ""}`,
      );
      render(child, `${indent}  `, lines);
    } else if (child.type === "symlink") {
      lines.push(`${indent}  ${child.name} -> (symlink, not followed)`);
    } else if (child.type === "other") {
      lines.push(`${indent}  ${child.name} (special file)`);
    } else {
      lines.push(`${indent}  ${child.name}`);
    }
  }
  if (node.omitted) lines.push(`${indent}  … ${node.omitted} more`);
}
