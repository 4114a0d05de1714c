import type { OutlineLevel } from "./chunking/outline.js";
import type { SymbolDef } from "./document.js";

/**
 * Symbol definitions for find-symbol, read from the same outline (and so the
 * same parse) as the chunks: every definition at top level and inside
 * containers (classes, namespaces, modules, impls, traits), with the line of
 * the definition itself (not of its doc comment) to its last line.
 */
export function symbolsOf(root: OutlineLevel): SymbolDef[] {
  const symbols: SymbolDef[] = [];
  const visit = (level: OutlineLevel) => {
    for (const item of level.items) {
      symbols.push({
        name: item.name,
        kind: item.kind,
        path: item.path,
        startLine: item.defStart + 1,
        endLine: item.end + 1,
        container: item.container,
      });
      if (item.members) visit(item.members);
    }
  };
  visit(root);
  return symbols;
}
